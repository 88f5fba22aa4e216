/**
 * The job-type catalog: which job types exist, where they run and how long they may take.
 * This is data shared by the runtime (handler registry, workers) and by `@jobplane/constructs`
 * (one worker pool per pooled queue, one ScaledJob per isolated queue, drain and grace periods).
 * A job type's `timeoutSeconds` is the single input of the drain contract: see `drainBudgetSeconds`.
 */

/** Queue names; one BullMQ queue each. */
export const QUEUE_NAMES = ['default', 'backtest', 'backtest-full'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Job types handled by this runtime. */
export const JOB_TYPES = ['demo.sleep', 'backtest.sweep', 'backtest.chunk', 'backtest.full'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export type ExecutionModeName = 'pooled' | 'isolated';

export interface JobTypeSpec {
  /** `pooled`: a long-lived worker pool consumes the queue. `isolated`: one Kubernetes Job per queued job. */
  readonly mode: ExecutionModeName;
  readonly queue: QueueName;
  /** Upper bound on one attempt; the handler's abort signal fires when it is exceeded. */
  readonly timeoutSeconds: number;
  /** Default attempt budget when a submission does not set one. */
  readonly maxAttempts: number;
  /** Whether clients may submit it directly (child job types are created by their parent only). */
  readonly submittable: boolean;
}

export const JOB_TYPE_CATALOG: Readonly<Record<JobType, JobTypeSpec>> = {
  'demo.sleep': { mode: 'pooled', queue: 'default', timeoutSeconds: 60, maxAttempts: 3, submittable: true },
  'backtest.sweep': {
    mode: 'pooled',
    queue: 'default',
    timeoutSeconds: 120,
    maxAttempts: 3,
    submittable: true,
  },
  'backtest.chunk': {
    mode: 'pooled',
    queue: 'backtest',
    timeoutSeconds: 120,
    maxAttempts: 3,
    submittable: false,
  },
  'backtest.full': {
    mode: 'isolated',
    queue: 'backtest-full',
    timeoutSeconds: 900,
    maxAttempts: 2,
    submittable: true,
  },
};

export interface QueueSpec {
  readonly name: QueueName;
  readonly mode: ExecutionModeName;
  readonly jobTypes: readonly JobType[];
  /** Longest `timeoutSeconds` of the queue's job types. */
  readonly maxJobSeconds: number;
}

/** Every queue with its mode, job types and longest job. A queue never mixes modes. */
export function queueSpecs(): QueueSpec[] {
  return QUEUE_NAMES.map((name) => {
    const types = JOB_TYPES.filter((t) => JOB_TYPE_CATALOG[t].queue === name);
    const modes = new Set(types.map((t) => JOB_TYPE_CATALOG[t].mode));
    if (types.length === 0 || modes.size !== 1) {
      throw new Error(
        `queue '${name}' must have job types of exactly one mode (has ${[...modes].join(', ') || 'none'})`,
      );
    }
    return {
      name,
      mode: [...modes][0] as ExecutionModeName,
      jobTypes: types,
      maxJobSeconds: Math.max(...types.map((t) => JOB_TYPE_CATALOG[t].timeoutSeconds)),
    };
  });
}

/**
 * The drain contract, derived in one place. On SIGTERM a worker stops fetching, aborts nothing
 * until `drainSeconds` have passed (in-flight jobs finish), then aborts and exits.
 * Kubernetes must wait longer than that before SIGKILL.
 */
export interface DrainContract {
  /** In-app drain budget: the longest job on the queue. */
  readonly drainSeconds: number;
  /** Delay in the preStop hook so endpoints/scalers see the pod leaving before SIGTERM. */
  readonly preStopSeconds: number;
  /** `terminationGracePeriodSeconds` = preStop + drain + margin. */
  readonly terminationGracePeriodSeconds: number;
  /** KEDA cooldown / HPA scale-down stabilization: never shorter than one drain. */
  readonly scaleDownStabilizationSeconds: number;
}

export const DRAIN_MARGIN_SECONDS = 15;
export const PRESTOP_SECONDS = 5;

export function drainContract(queue: QueueName): DrainContract {
  const spec = queueSpecs().find((q) => q.name === queue);
  if (!spec) throw new Error(`unknown queue '${queue}'`);
  const drainSeconds = spec.maxJobSeconds;
  return {
    drainSeconds,
    preStopSeconds: PRESTOP_SECONDS,
    terminationGracePeriodSeconds: PRESTOP_SECONDS + drainSeconds + DRAIN_MARGIN_SECONDS,
    scaleDownStabilizationSeconds: Math.max(300, drainSeconds + DRAIN_MARGIN_SECONDS),
  };
}
