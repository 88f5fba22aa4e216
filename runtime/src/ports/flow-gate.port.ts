/**
 * Flow control across workers (docs/flow-control.md): concurrency slots per key with a per-queue
 * cap, held under a lease so a slot of a killed worker comes back, and rate limits per key.
 */
export interface SlotRequest {
  /** The concurrency key, e.g. `tenant-42` or a job type. */
  readonly key: string;
  /** At most this many holders of `key` at once (≥ 1). */
  readonly limit: number;
  /** With `queueCap`: the queue whose total holders are capped. */
  readonly queue?: string;
  readonly queueCap?: number;
  /** Unique per attempt (e.g. the attempt token). */
  readonly holder: string;
  /** The slot frees itself this long after the last acquire or renew. */
  readonly leaseMs: number;
}

export type SlotResult =
  | { readonly ok: true; readonly expiresAt: number }
  | { readonly ok: false; readonly reason: 'key' | 'queue'; readonly retryAfterMs: number };

export type RateResult =
  { readonly ok: true; readonly at: number } | { readonly ok: false; readonly retryAfterMs: number };

export interface FlowGate {
  acquire(req: SlotRequest): Promise<SlotResult>;
  /** Extends a held lease; false when it had expired (the slot may be someone else's now). */
  renew(req: SlotRequest): Promise<boolean>;
  release(req: Pick<SlotRequest, 'key' | 'queue' | 'holder'>): Promise<void>;
  /** One start of `key` under "at most `limit` per `intervalMs`" (exact over any window of that length). */
  takeRate(key: string, limit: number, intervalMs: number): Promise<RateResult>;
}
