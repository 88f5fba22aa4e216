/**
 * Queue depth as the metrics endpoint reports it (`jobplane_queue_jobs`,
 * `jobplane_queue_oldest_waiting_seconds`). Read at scrape time, so the numbers are never stale.
 */
export interface QueueSnapshot {
  readonly queue: string;
  readonly waiting: number;
  readonly prioritized: number;
  readonly delayed: number;
  readonly active: number;
  /** Age of the oldest job in the waiting list; 0 when the list is empty. */
  readonly oldestWaitingSeconds: number;
}

export interface QueueStats {
  snapshot(): Promise<QueueSnapshot[]>;
}
