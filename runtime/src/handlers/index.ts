/**
 * Job-type handlers: one payload schema plus one async function per job type in `JOB_TYPES`.
 * Handlers are pure of PostgreSQL, Redis and HTTP; the runtime owns retries, state and fan-out.
 */
import { JOB_TYPES } from '../config/job-types.js';
import type { JobType } from '../config/job-types.js';
import type { HandlerRegistry, JobHandler } from '../ports/job-handler.port.js';
import { demoSleepHandler } from './demo-sleep.handler.js';

export { demoSleepDeadLetters, demoSleepFails, SimulatedFailureError } from './demo-sleep.handler.js';
export type { DemoSleepPayload, DemoSleepResult } from './demo-sleep.handler.js';

/** Every job type's handler. Typed as a total map once all types are implemented. */
const HANDLERS: Partial<Record<JobType, JobHandler>> = {
  'demo.sleep': demoSleepHandler as JobHandler,
};

/** The registry the worker and `run-one` use; `types()` lists the job types it can run. */
export function createHandlerRegistry(): HandlerRegistry {
  const byType = new Map<string, JobHandler>();
  for (const type of JOB_TYPES) {
    const handler = HANDLERS[type];
    if (handler) byType.set(type, handler);
  }
  return {
    get: (type) => byType.get(type),
    types: () => [...byType.keys()],
  };
}
