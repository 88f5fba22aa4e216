// The team's catalog module: job types as data + zod schemas; handlers are imported lazily.
import { defineCatalog, defineJobType } from '@jobplane/sdk';
import { greetPayload, greetResult, renderPayload, renderResult } from './schemas.js';

export const greet = defineJobType({
  type: 'acme.greet',
  queue: 'greetings',
  timeoutSeconds: 45,
  concurrency: 4,
  payload: greetPayload,
  result: greetResult,
  example: { name: 'Ada' },
  load: () => import('./greet.handler.js'),
});

export const render = defineJobType({
  type: 'acme.render',
  queue: 'renders',
  mode: 'isolated',
  timeoutSeconds: 1200,
  maxAttempts: 2,
  payload: renderPayload,
  result: renderResult,
  load: () => import('./render.handler.js'),
});

export const catalog = defineCatalog({ name: 'acme', jobTypes: [greet, render] });
export default catalog;
