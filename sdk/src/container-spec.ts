/** The container spec of a container job type (validated by `defineContainerJobType`, see container.ts). */
/** CPU and memory as Kubernetes quantities, e.g. `{ cpu: '500m', memory: '256Mi' }`. */
export interface ContainerResourceList {
  readonly cpu?: string;
  readonly memory?: string;
}

/** An Indexed Job: `completions` pods, each with `JOB_COMPLETION_INDEX` set. */
export interface IndexedSpec {
  readonly completions: number;
  /** Pods running at once (default `completions`). */
  readonly parallelism?: number;
  /** Retries of one index inside an attempt (default 0). */
  readonly backoffLimitPerIndex?: number;
  /** Failed indexes tolerated before the whole Job fails (default: none tolerated). */
  readonly maxFailedIndexes?: number;
}

export interface ContainerSpec {
  /** Image pinned by a tag other than `latest`, or by digest (`repo@sha256:…`). */
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  /** Extra environment variables (names not starting with `JOBPLANE_`). */
  readonly env?: Readonly<Record<string, string>>;
  readonly resources?: { readonly requests?: ContainerResourceList; readonly limits?: ContainerResourceList };
  /** Exit codes that mean "retrying cannot help": the attempt fails the job at once (`FailJob`). */
  readonly nonRetryableExitCodes?: readonly number[];
  readonly indexed?: IndexedSpec;
  /** Kubernetes deletes a finished Job (and its payload Secret) after this long; default 3600. */
  readonly ttlSecondsAfterFinished?: number;
  /** Kueue LocalQueue: the Job gets `kueue.x-k8s.io/queue-name` and is created suspended. */
  readonly kueueQueueName?: string;
  /** Largest payload (bytes of its JSON) a submission may carry; default 65536, at most 262144. */
  readonly maxPayloadBytes?: number;
}
