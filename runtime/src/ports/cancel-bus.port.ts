/** Tells running workers that a job was cancelled so its handler's abort signal fires. */
export interface CancelBus {
  publish(jobId: string): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (jobId: string) => void): Promise<() => Promise<void>>;
}
