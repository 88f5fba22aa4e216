import {
  isFanOut,
  validatePayload,
  type AnyJobType,
  type FanOut,
  type JobContext,
  type JobHandlerObject,
  type JobLogger,
  type PayloadCheck,
} from '@jobplane/sdk';

export interface FakeContext extends JobContext {
  readonly progressCalls: { percent: number; message?: string }[];
}

const silent: JobLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A handler context that records progress and logs nothing. */
export function fakeContext(overrides: Partial<JobContext> = {}): FakeContext {
  const progressCalls: { percent: number; message?: string }[] = [];
  return {
    jobId: 'job-1',
    type: 'test.type',
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

/** A job type's payload validation plus its handler, as the worker sees them. */
export interface TestHandler<P, R> {
  readonly type: string;
  parsePayload(input: unknown): PayloadCheck<P>;
  run(payload: P, ctx: JobContext): Promise<R | FanOut>;
  aggregate?(
    payload: P,
    children: Parameters<NonNullable<JobHandlerObject<P, R>['aggregate']>>[1],
    ctx: JobContext,
  ): Promise<R>;
}

export function testHandler<P, R>(
  def: AnyJobType,
  impl: JobHandlerObject<P, R>,
): Required<TestHandler<P, R>> {
  return {
    type: def.type,
    parsePayload: (input) => validatePayload(def, input) as PayloadCheck<P>,
    run: async (payload, ctx) => impl.run(payload, ctx),
    aggregate: async (payload, children, ctx) => {
      if (!impl.aggregate) throw new Error(`${def.type} has no aggregate`);
      return impl.aggregate(payload, children, ctx);
    },
  };
}
