import type { FanOut, HandlerContext, HandlerLogger } from '../../../src/ports/job-handler.port.js';
import { isFanOut } from '../../../src/ports/job-handler.port.js';

export interface FakeContext extends HandlerContext {
  readonly progressCalls: { percent: number; message?: string }[];
}

const silent: HandlerLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A handler context that records progress and logs nothing. */
export function fakeContext(overrides: Partial<HandlerContext> = {}): FakeContext {
  const progressCalls: { percent: number; message?: string }[] = [];
  return {
    jobId: 'job-1',
    executionKey: 'exec-1',
    attempt: 1,
    maxAttempts: 3,
    signal: new AbortController().signal,
    logger: silent,
    progress: async (percent, message) => {
      progressCalls.push(message === undefined ? { percent } : { percent, message });
    },
    ...overrides,
    progressCalls,
  };
}

/** Narrows a handler's `run` answer to a plain result (fails the test on a fan-out). */
export function finished<R>(value: R | FanOut): R {
  if (isFanOut(value)) throw new Error('expected a result, got a fan-out');
  return value;
}
