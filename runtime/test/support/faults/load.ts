import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SubmitBody {
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly [extra: string]: unknown;
}

export interface LoadOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Submissions started per second (fixed rate, not closed-loop). */
  readonly ratePerSec: number;
  /** Body of submission number `i` (0-based). */
  readonly body: (i: number) => SubmitBody;
  /** A client keeps retrying one submission (same key, same body) this long before giving up. */
  readonly retryForMs?: number;
  readonly requestTimeoutMs?: number;
  /** At most this many submissions (including retries) in flight; extra ticks are skipped and counted. */
  readonly maxInFlight?: number;
}

export interface Accepted {
  readonly key: string;
  readonly jobId: string;
  readonly status: number;
  /** When the first try started and when the 2xx arrived (ms since epoch). */
  readonly startedAt: number;
  readonly answeredAt: number;
  readonly tries: number;
}

/**
 * A steady submitter that behaves like a careful client: a fresh random Idempotency-Key per job,
 * and on a network error, 5xx, 409 or 429 it retries the SAME key and body until it gets an
 * answer. So every submission ends as accepted (2xx with a job id), rejected (a definitive 4xx) or
 * unresolved (gave up), and "accepted answers = job rows" is exact even across API crashes.
 */
export class LoadDriver {
  readonly accepted = new Map<string, Accepted>();
  readonly rejected: { key: string; status: number; body: string }[] = [];
  readonly unresolved: string[] = [];
  readonly statusCounts = new Map<number, number>();
  readonly latenciesMs: number[] = [];
  networkErrors = 0;
  retries = 0;
  skippedTicks = 0;
  private submitted = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: LoadOptions) {}

  get submittedCount(): number {
    return this.submitted;
  }

  start(): void {
    if (this.timer) return;
    const periodMs = 1000 / this.opts.ratePerSec;
    const t0 = Date.now();
    let fired = 0;
    // A fine timer that catches up on missed ticks, so the rate holds on a busy box.
    this.timer = setInterval(
      () => {
        const due = Math.floor((Date.now() - t0) / periodMs) + 1;
        while (fired < due) {
          fired++;
          if (this.inFlight >= (this.opts.maxInFlight ?? 200)) {
            this.skippedTicks++;
            continue;
          }
          this.track(this.submitOne(this.submitted++));
        }
      },
      Math.max(5, Math.min(50, periodMs)),
    );
  }

  /** Submits `n` jobs now, outside the steady rate (e.g. a burst or a poison job). */
  async submitNow(body: SubmitBody): Promise<Accepted | undefined> {
    const key = randomUUID();
    await this.track(this.submitWithKey(key, body));
    return this.accepted.get(key);
  }

  /** Stops starting new submissions and waits for every started one to settle. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  acceptedIds(): string[] {
    return [...this.accepted.values()].map((a) => a.jobId);
  }

  /** Time of the first 2xx answered at or after `t` whose request started at or after `t`. */
  firstAcceptedAfter(t: number): number | undefined {
    let best: number | undefined;
    for (const a of this.accepted.values()) {
      if (a.startedAt >= t && (best === undefined || a.answeredAt < best)) best = a.answeredAt;
    }
    return best;
  }

  private track(p: Promise<void>): Promise<void> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  private submitOne(i: number): Promise<void> {
    return this.submitWithKey(randomUUID(), this.opts.body(i));
  }

  private async submitWithKey(key: string, body: SubmitBody): Promise<void> {
    this.inFlight++;
    const startedAt = Date.now();
    const deadline = startedAt + (this.opts.retryForMs ?? 60_000);
    let tries = 0;
    try {
      while (true) {
        tries++;
        const t = performance.now();
        try {
          const res = await fetch(`${this.opts.baseUrl}/v1/jobs`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${this.opts.apiKey}`,
              'idempotency-key': key,
            },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 10_000),
          });
          const text = await res.text();
          this.latenciesMs.push(performance.now() - t);
          this.statusCounts.set(res.status, (this.statusCounts.get(res.status) ?? 0) + 1);
          if (res.status >= 200 && res.status < 300) {
            const jobId = (JSON.parse(text) as { job?: { id?: string } }).job?.id;
            if (typeof jobId !== 'string') throw new Error(`2xx without job.id: ${text.slice(0, 200)}`);
            this.accepted.set(key, {
              key,
              jobId,
              status: res.status,
              startedAt,
              answeredAt: Date.now(),
              tries,
            });
            return;
          }
          if (res.status < 500 && res.status !== 409 && res.status !== 429 && res.status !== 408) {
            this.rejected.push({ key, status: res.status, body: text.slice(0, 500) });
            return;
          }
        } catch (err) {
          if (err instanceof Error && err.message.startsWith('2xx without')) throw err;
          this.networkErrors++;
        }
        if (Date.now() > deadline) {
          this.unresolved.push(key);
          return;
        }
        this.retries++;
        await sleep(Math.min(1000, 50 * 2 ** Math.min(tries, 5)));
      }
    } finally {
      this.inFlight--;
    }
  }
}

/** p-th percentile (0–100) of `values` by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
