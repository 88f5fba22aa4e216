/**
 * Group commit: concurrent calls of one store method are coalesced into one multi-row statement
 * (one transaction, one commit). Each caller's promise settles only after the statement that
 * carries its own item has committed (or failed), so an answer built on it means what it meant
 * for a single-row statement.
 *
 * When to flush:
 *  - while fewer than `maxInFlight` flushes run, the items that arrived in the current turn of the
 *    event loop go at once (`setImmediate`): a lone call waits for nothing;
 *  - otherwise items wait for a running flush to finish, and go then, together;
 *  - `maxBatch` items, or an item that waited `maxWaitMs`, flush whatever runs already (the pool
 *    bounds the connections).
 */
export interface GroupCommitOptions {
  /** Most items in one statement. */
  readonly maxBatch: number;
  /** Longest an item waits for a batch to form while other flushes run, in milliseconds. */
  readonly maxWaitMs: number;
  /** Flushes that may run at once before items start to wait for each other. */
  readonly maxInFlight: number;
}

/** Sizes used by the PostgreSQL store unless told otherwise. */
export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxBatch: 200, maxWaitMs: 2, maxInFlight: 2 };

export function checkGroupCommitOptions(opts: GroupCommitOptions): void {
  for (const [name, v, min] of [
    ['maxBatch', opts.maxBatch, 1],
    ['maxWaitMs', opts.maxWaitMs, 0],
    ['maxInFlight', opts.maxInFlight, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new Error(`'${name}' (${v}) must be an integer ≥ ${min}`);
  }
  if (opts.maxWaitMs > 2) throw new Error(`'maxWaitMs' (${opts.maxWaitMs}) must be at most 2 ms`);
}

interface Waiter<I, O> {
  readonly item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

/**
 * `flush(items)` must return one outcome per item, in order: a value, or an Error for that item
 * alone (the others still succeed). A thrown error fails every item of the batch.
 */
export type BatchFlush<I, O> = (items: readonly I[]) => Promise<ReadonlyArray<O | BatchItemError>>;

/** The outcome of one item that failed while the rest of its batch did not. */
export class BatchItemError {
  constructor(readonly error: unknown) {}
}

export class GroupCommitter<I, O> {
  private pending: Waiter<I, O>[] = [];
  private inFlight = 0;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Batches flushed and items carried, for tests and metrics. */
  batches = 0;
  items = 0;

  constructor(
    private readonly flush: BatchFlush<I, O>,
    private readonly opts: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
  ) {
    checkGroupCommitOptions(opts);
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pending.length === 0) return;
    if (this.pending.length >= this.opts.maxBatch) {
      this.run();
      return;
    }
    if (this.inFlight < this.opts.maxInFlight) {
      this.immediate ??= setImmediate(() => {
        this.immediate = null;
        this.run();
      });
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.run();
    }, this.opts.maxWaitMs);
  }

  private run(): void {
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.opts.maxBatch);
      this.inFlight++;
      this.batches++;
      this.items += batch.length;
      void this.deliver(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
      if (this.pending.length < this.opts.maxBatch) break;
    }
    // Left-overs (fewer than a full batch) wait for the next trigger.
    if (this.pending.length > 0) this.schedule();
  }

  private async deliver(batch: Waiter<I, O>[]): Promise<void> {
    let out: ReadonlyArray<O | BatchItemError>;
    try {
      out = await this.flush(batch.map((w) => w.item));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const o = out[i];
      if (o instanceof BatchItemError) w.reject(o.error);
      else if (o === undefined)
        w.reject(new Error('group commit: the batch returned no outcome for an item'));
      else w.resolve(o);
    });
  }
}
