// The team's catalog module (compiled output): data, schemas and a lazy loader, no handler code.
import { defineCatalog, defineJobType } from '@jobplane/sdk';
import { z } from 'zod';

export const greet = defineJobType({
  type: 'acme.greet',
  queue: 'greetings',
  timeoutSeconds: 30,
  payload: z.strictObject({ name: z.string().min(1).max(100) }),
  result: z.object({ greeting: z.string(), attempt: z.int() }),
  example: { name: 'Ada' },
  load: () => import('./greet.handler.js'),
});

export default defineCatalog({ name: 'acme', jobTypes: [greet] });
