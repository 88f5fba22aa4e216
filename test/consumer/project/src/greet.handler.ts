import type { JobContext } from '@jobplane/sdk';
import type { z } from 'zod';
import { markLoaded } from './loaded.js';
import type { greetPayload, greetResult } from './schemas.js';

markLoaded('greet');

export default async function greet(
  { name }: z.output<typeof greetPayload>,
  ctx: JobContext,
): Promise<z.output<typeof greetResult>> {
  await ctx.progress(50, 'composing');
  return { greeting: `Hello, ${name}!`, attempt: ctx.attempt };
}
