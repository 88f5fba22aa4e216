/** What the runtime needs to know about a job type (built from the config's job-type catalog). */
export interface JobTypeInfo {
  readonly mode: 'pooled' | 'isolated';
  readonly queue: string;
  readonly timeoutSeconds: number;
  readonly maxAttempts: number;
  readonly submittable: boolean;
}

export type JobCatalog = (type: string) => JobTypeInfo | undefined;
