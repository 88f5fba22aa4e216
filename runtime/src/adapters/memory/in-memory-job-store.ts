/**
 * The JobStore port in memory: the same state machine, fencing, idempotency, events and outbox as
 * the PostgreSQL store (runtime/src/adapters/postgres/postgres-job-store.ts), held in maps. Both
 * pass one contract suite (runtime/test/contract/job-store.contract.ts), so unit tests of the use
 * cases run against real store semantics instead of partial fakes. One process only: nothing is
 * durable, and every method completes atomically (there is no await inside a state change).
 */
import { DomainError } from '../../domain/errors.js';
import { decideStart } from '../../domain/fencing.js';
import type { ChildrenRollup, Job, JobError, JobEvent } from '../../domain/job.entity.js';
import { ACTIVE_STATES, isTerminal, RETRYABLE_BY_CLIENT, type JobState } from '../../domain/job-state.js';
import type { QueueMessage } from '../../ports/job-queue.port.js';
import type {
  CancelResult,
  ChildRow,
  ChildSpec,
  InsertResult,
  JobStore,
  ListFilter,
  NewJob,
  OutboxBatch,
  Page,
  ReconcileCandidate,
  StartResult,
} from '../../ports/job-store.port.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A `jobs` row: the Job plus the columns the port does not expose. */
interface Row extends Mutable<Omit<Job, 'attemptBase' | 'children'>> {
  requestHash: string;
  attemptToken: string | null;
  worker: string | null;
  attemptBase: number;
}

interface OutboxRow {
  readonly id: number;
  readonly message: QueueMessage;
}

const WORKER_LOST: JobError = {
  code: 'WORKER.LOST',
  message:
    'the previous attempt ended without recording its outcome (its worker died, froze past its lock, or could not write to PostgreSQL)',
  retryable: true,
};

const clone = <T>(v: T): T => structuredClone(v);

export interface InMemoryJobStoreOptions {
  /** The store's clock (PostgreSQL's `now()`); strictly increasing readings are derived from it. */
  readonly now?: () => Date;
}

export class InMemoryJobStore implements JobStore {
  private readonly rows = new Map<string, Row>();
  private readonly byKey = new Map<string, string>();
  private readonly events: JobEvent[] = [];
  private readonly outbox: OutboxRow[] = [];
  /** Outbox rows claimed by an open batch (SKIP LOCKED). */
  private readonly claimed = new Set<number>();
  private nextEventId = 1;
  private nextOutboxId = 1;
  private lastMs = 0;

  constructor(private readonly opts: InMemoryJobStoreOptions = {}) {}

  /** Strictly increasing: two writes never share a timestamp, as two transactions' now() do not. */
  private now(): Date {
    const ms = Math.max((this.opts.now ?? (() => new Date()))().getTime(), this.lastMs + 1);
    this.lastMs = ms;
    return new Date(ms);
  }

  private view(r: Row, withChildren = false): Job {
    const { requestHash: _h, attemptToken: _t, worker: _w, attemptBase, ...job } = r;
    const children = withChildren && r.fanOutTotal !== null ? this.rollup(r.id) : undefined;
    return clone({
      ...job,
      ...(attemptBase > 0 ? { attemptBase } : {}),
      ...(children ? { children } : {}),
    }) as Job;
  }

  private rollup(parentId: string): ChildrenRollup | undefined {
    const kids = this.kids(parentId);
    if (kids.length === 0) return undefined;
    const byState: Partial<Record<JobState, number>> = {};
    let sum = 0;
    for (const k of kids) {
      byState[k.state] = (byState[k.state] ?? 0) + 1;
      sum += isTerminal(k.state) ? 100 : k.progress;
    }
    return { total: kids.length, byState, percent: Math.round((sum / kids.length) * 10) / 10 };
  }

  private kids(parentId: string): Row[] {
    return [...this.rows.values()]
      .filter((r) => r.parentId === parentId)
      .sort((a, b) => (a.childIndex ?? 0) - (b.childIndex ?? 0));
  }

  private event(
    r: Row,
    from: JobState | null,
    to: JobState,
    attempt: number,
    reason: string,
    details: Record<string, unknown> | null,
    at: Date,
  ): void {
    this.events.push({
      id: String(this.nextEventId++),
      jobId: r.id,
      fromState: from,
      toState: to,
      attempt,
      reason,
      details: details === null ? null : clone(details),
      createTime: at,
    });
  }

  /** Appends an outbox row; returns its id. */
  private enqueue(message: QueueMessage): number {
    const id = this.nextOutboxId++;
    this.outbox.push({ id, message });
    return id;
  }

  private runMessage(r: Row, attempt: number, replace = false): QueueMessage {
    return {
      jobId: r.id,
      queue: r.queue,
      kind: 'run',
      attempt,
      priority: r.priority,
      runAt: r.runAt,
      requestId: r.requestId,
      replace,
    };
  }

  /** The running row `id` when `token` is its current attempt's. */
  private fenced(id: string, token: string): Row | null {
    const r = this.rows.get(id);
    return r && r.state === 'running' && r.attemptToken === token ? r : null;
  }

  async insert(job: NewJob): Promise<InsertResult> {
    return (await this.insertMany([job]))[0]!;
  }

  async insertMany(jobs: readonly NewJob[]): Promise<InsertResult[]> {
    const at = this.now();
    const firstInBatch = new Set<string>();
    return jobs.map((n) => {
      const key = `${n.clientId}\u0000${n.idempotencyKey}`;
      const existingId = this.byKey.get(key);
      if (existingId !== undefined) {
        const r = this.rows.get(existingId)!;
        return { job: this.view(r), created: false, requestHash: r.requestHash };
      }
      if (firstInBatch.has(key)) throw new Error('unreachable: a batch key is stored at its first entry');
      firstInBatch.add(key);
      const r: Row = {
        id: n.id,
        clientId: n.clientId,
        type: n.type,
        payload: clone(n.payload),
        state: 'queued',
        priority: n.priority,
        runAt: n.runAt,
        attempts: 0,
        maxAttempts: n.maxAttempts,
        progress: 0,
        progressMessage: null,
        result: null,
        error: null,
        mode: n.mode,
        queue: n.queue,
        idempotencyKey: n.idempotencyKey,
        parentId: null,
        childIndex: null,
        fanOutTotal: null,
        requestId: n.requestId,
        createTime: at,
        updateTime: at,
        startTime: null,
        finishTime: null,
        requestHash: n.requestHash,
        attemptToken: null,
        worker: null,
        attemptBase: 0,
        ...(n.concurrencyKey !== undefined ? { concurrencyKey: n.concurrencyKey } : {}),
        ...(n.concurrencyLimit !== undefined ? { concurrencyLimit: n.concurrencyLimit } : {}),
        ...(n.flowKey !== undefined ? { flowKey: n.flowKey } : {}),
        ...(n.flowLimit !== undefined ? { flowLimit: n.flowLimit } : {}),
      };
      this.rows.set(r.id, r);
      this.byKey.set(key, r.id);
      this.event(r, null, 'queued', 0, 'submitted', null, at);
      const message = this.withJob(this.runMessage(r, 0));
      const outboxId = this.enqueue(this.runMessage(r, 0));
      return {
        job: this.view(r),
        created: true,
        requestHash: n.requestHash,
        outbox: { id: String(outboxId), message },
      };
    });
  }

  async get(clientId: string, id: string): Promise<Job | null> {
    const r = this.rows.get(id);
    return r && r.clientId === clientId ? this.view(r, true) : null;
  }

  async getAny(id: string): Promise<Job | null> {
    const r = this.rows.get(id);
    return r ? this.view(r) : null;
  }

  async list(
    clientId: string,
    filter: ListFilter,
    pageSize: number,
    cursor: string | null,
  ): Promise<Page<Job>> {
    const after = cursor === null ? null : decodeCursor(cursor);
    const rows = [...this.rows.values()]
      .filter(
        (r) =>
          r.clientId === clientId &&
          (!filter.state || r.state === filter.state) &&
          (!filter.type || r.type === filter.type) &&
          (!filter.parentId || r.parentId === filter.parentId) &&
          (!after || before(r, after)),
      )
      .sort((a, b) => (before(a, key(b)) ? 1 : before(b, key(a)) ? -1 : 0))
      .slice(0, pageSize + 1);
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => this.view(r)),
      nextCursor: rows.length > pageSize && last ? encodeCursor(key(last)) : null,
    };
  }

  async listEvents(jobId: string, pageSize: number, afterId: string | null): Promise<Page<JobEvent>> {
    const after = BigInt(afterId ?? '0');
    const rows = this.events.filter((e) => e.jobId === jobId && BigInt(e.id) > after).slice(0, pageSize + 1);
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return { items: page.map(clone), nextCursor: rows.length > pageSize && last ? last.id : null };
  }

  async startAttempt(id: string, token: string, worker: string): Promise<StartResult> {
    const r = this.rows.get(id);
    const decision = decideStart(r ?? null);
    if (!r || decision.action === 'skip')
      return { status: 'skipped', reason: decision.action === 'skip' ? decision.reason : 'missing' };
    const at = this.now();
    if (decision.action === 'start') {
      Object.assign(r, {
        state: 'running',
        attempts: r.attempts + 1,
        attemptToken: token,
        worker,
        startTime: at,
        updateTime: at,
        progress: 0,
        progressMessage: null,
      });
      this.event(r, 'queued', 'running', r.attempts, 'attempt_started', { worker }, at);
      return { status: 'started', job: this.view(r), token, tookOver: false };
    }
    const prev = r.attempts;
    if (decision.action === 'dead_letter') {
      Object.assign(r, {
        state: 'dead_lettered',
        attemptToken: null,
        error: WORKER_LOST,
        finishTime: at,
        updateTime: at,
      });
      this.event(r, 'running', 'failed', prev, 'worker_lost', { ...WORKER_LOST }, at);
      this.event(r, 'failed', 'dead_lettered', prev, 'attempts_exhausted', null, at);
      if (r.parentId) this.notifyParent(r.parentId);
      return { status: 'dead_lettered', job: this.view(r) };
    }
    Object.assign(r, {
      attempts: prev + 1,
      attemptToken: token,
      worker,
      error: WORKER_LOST,
      startTime: at,
      updateTime: at,
    });
    this.event(r, 'running', 'failed', prev, 'worker_lost', { ...WORKER_LOST }, at);
    this.event(r, 'failed', 'queued', prev, 'retry_scheduled', null, at);
    this.event(r, 'queued', 'running', r.attempts, 'attempt_started', { worker, tookOver: true }, at);
    return { status: 'started', job: this.view(r), token, tookOver: true };
  }

  async reportProgress(id: string, token: string, percent: number, message: string | null): Promise<boolean> {
    const r = this.fenced(id, token);
    if (!r) return false;
    Object.assign(r, { progress: percent, progressMessage: message, updateTime: this.now() });
    return true;
  }

  async succeed(id: string, token: string, result: Record<string, unknown>): Promise<Job | null> {
    const r = this.fenced(id, token);
    if (!r) return null;
    const at = this.now();
    Object.assign(r, {
      state: 'succeeded',
      result: clone(result),
      error: null,
      progress: 100,
      finishTime: at,
      updateTime: at,
    });
    this.event(r, 'running', 'succeeded', r.attempts, 'handler_succeeded', null, at);
    if (r.parentId) this.notifyParent(r.parentId);
    return this.view(r);
  }

  async failAndRetry(id: string, token: string, error: JobError, runAt: Date): Promise<Job | null> {
    const r = this.fenced(id, token);
    if (!r) return null;
    const at = this.now();
    Object.assign(r, { state: 'queued', error: clone(error), runAt, fanOutTotal: null, updateTime: at });
    this.event(r, 'running', 'failed', r.attempts, 'attempt_failed', { ...error }, at);
    this.event(r, 'failed', 'queued', r.attempts, 'retry_scheduled', { runAt: runAt.toISOString() }, at);
    return this.view(r);
  }

  async deferUnknownType(
    id: string,
    token: string,
    error: JobError,
    runAt: Date,
    release: boolean,
  ): Promise<boolean> {
    const r = this.fenced(id, token);
    if (!r) return false;
    const at = this.now();
    const details = { ...error, runAt: runAt.toISOString() };
    if (release) {
      Object.assign(r, {
        state: 'queued',
        attempts: r.attempts - 1,
        attemptToken: null,
        runAt,
        updateTime: at,
      });
      this.event(r, 'running', 'queued', r.attempts, 'unknown_type_deferred', details, at);
    } else {
      this.event(r, r.state, r.state, r.attempts, 'unknown_type_deferred', details, at);
    }
    return true;
  }

  async unknownTypeDeferrals(id: string): Promise<number> {
    return this.events.filter((e) => e.jobId === id && e.reason === 'unknown_type_deferred').length;
  }

  async failAndDeadLetter(id: string, token: string, error: JobError): Promise<Job | null> {
    const r = this.fenced(id, token);
    if (!r) return null;
    const at = this.now();
    Object.assign(r, { state: 'dead_lettered', error: clone(error), finishTime: at, updateTime: at });
    this.event(r, 'running', 'failed', r.attempts, 'attempt_failed', { ...error }, at);
    const reason = error.retryable ? 'attempts_exhausted' : 'unrecoverable';
    this.event(r, 'failed', 'dead_lettered', r.attempts, reason, null, at);
    if (r.parentId) this.notifyParent(r.parentId);
    return this.view(r);
  }

  async deadLetterAbandoned(id: string, error: JobError): Promise<Job | null> {
    const r = this.rows.get(id);
    if (!r || r.state !== 'running') return null;
    const at = this.now();
    Object.assign(r, {
      state: 'dead_lettered',
      attemptToken: null,
      error: clone(error),
      finishTime: at,
      updateTime: at,
    });
    this.event(r, 'running', 'failed', r.attempts, 'stalled', { ...error }, at);
    this.event(r, 'failed', 'dead_lettered', r.attempts, 'stall_limit', null, at);
    if (r.parentId) this.notifyParent(r.parentId);
    return this.view(r);
  }

  async fanOut(id: string, token: string, children: readonly ChildSpec[]): Promise<boolean> {
    const p = this.fenced(id, token);
    if (!p) return false;
    const at = this.now();
    Object.assign(p, {
      fanOutTotal: children.length,
      progressMessage: `waiting for ${children.length} child jobs`,
      updateTime: at,
    });
    for (const ch of children) {
      // Keyed by (parent, index): re-running the parent never duplicates a child.
      const idempotencyKey = `fan-out:${id}:${ch.index}`;
      const k = `${p.clientId}\u0000${idempotencyKey}`;
      if (this.byKey.has(k)) continue;
      const r: Row = {
        id: ch.id,
        clientId: p.clientId,
        type: ch.type,
        payload: clone(ch.payload),
        state: 'queued',
        priority: p.priority,
        runAt: at,
        attempts: 0,
        maxAttempts: ch.maxAttempts,
        progress: 0,
        progressMessage: null,
        result: null,
        error: null,
        mode: ch.mode,
        queue: ch.queue,
        idempotencyKey,
        parentId: id,
        childIndex: ch.index,
        fanOutTotal: null,
        requestId: p.requestId,
        createTime: at,
        updateTime: at,
        startTime: null,
        finishTime: null,
        requestHash: '',
        attemptToken: null,
        worker: null,
        attemptBase: 0,
      };
      this.rows.set(r.id, r);
      this.byKey.set(k, r.id);
      this.event(r, null, 'queued', 0, 'fanned_out', { parentId: id }, at);
      this.enqueue(this.runMessage(r, 0));
    }
    this.notifyParent(id);
    return true;
  }

  async children(id: string): Promise<ChildRow[]> {
    return this.kids(id).map((r) => ({
      jobId: r.id,
      index: r.childIndex ?? 0,
      state: r.state,
      result: clone(r.result),
      error: clone(r.error),
    }));
  }

  async currentToken(id: string, attempt: number): Promise<string | null> {
    const r = this.rows.get(id);
    return r && r.state === 'running' && r.attempts === attempt && r.fanOutTotal !== null
      ? r.attemptToken
      : null;
  }

  async cancel(clientId: string, id: string): Promise<CancelResult | null> {
    const r = this.rows.get(id);
    if (!r || r.clientId !== clientId) return null;
    const from = r.state;
    if (!ACTIVE_STATES.includes(from)) return { job: this.view(r), changed: false, cancelledChildren: [] };
    const at = this.now();
    Object.assign(r, { state: 'cancelled', attemptToken: null, finishTime: at, updateTime: at });
    this.event(r, from, 'cancelled', r.attempts, 'cancel_requested', null, at);
    const cancelledChildren: string[] = [];
    for (const k of this.kids(id)) {
      if (!ACTIVE_STATES.includes(k.state)) continue;
      const old = k.state;
      Object.assign(k, { state: 'cancelled', attemptToken: null, finishTime: at, updateTime: at });
      this.event(k, old, 'cancelled', k.attempts, 'parent_cancelled', null, at);
      cancelledChildren.push(k.id);
    }
    if (r.parentId) this.notifyParent(r.parentId);
    return { job: this.view(r), changed: true, cancelledChildren };
  }

  async retry(clientId: string, id: string): Promise<{ job: Job; changed: boolean } | null> {
    const r = this.rows.get(id);
    if (!r || r.clientId !== clientId) return null;
    const from = r.state;
    if (!RETRYABLE_BY_CLIENT.includes(from)) return { job: this.view(r), changed: false };
    const at = this.now();
    // Attempt numbers keep counting; the budget is granted again on top of the attempts used.
    Object.assign(r, {
      state: 'queued',
      maxAttempts: r.attempts + (r.maxAttempts - r.attemptBase),
      attemptBase: r.attempts,
      attemptToken: null,
      error: null,
      result: null,
      fanOutTotal: null,
      progress: 0,
      progressMessage: null,
      runAt: at,
      finishTime: null,
      updateTime: at,
    });
    this.event(r, from, 'queued', r.attempts, 'retry_requested', { maxAttempts: r.maxAttempts }, at);
    this.enqueue(this.runMessage(r, r.attempts, true));
    return { job: this.view(r), changed: true };
  }

  async claimOutbox(limit: number): Promise<OutboxBatch> {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`'limit' (${limit}) must be a positive integer`);
    const rows = this.outbox.filter((o) => !this.claimed.has(o.id)).slice(0, limit);
    for (const o of rows) this.claimed.add(o.id);
    let done = false;
    const finish = (remove: boolean) => {
      if (done) return;
      done = true;
      const ids = new Set(rows.map((o) => o.id));
      for (const id of ids) this.claimed.delete(id);
      if (remove)
        for (let i = this.outbox.length - 1; i >= 0; i--)
          if (ids.has(this.outbox[i]!.id)) this.outbox.splice(i, 1);
    };
    return {
      messages: rows.map((o) => this.withJob(o.message)),
      ack: async () => finish(true),
      release: async () => finish(false),
    };
  }

  /** The message with the job's type, client and slot set, read at claim time (the relay's join). */
  private withJob(m: QueueMessage): QueueMessage {
    const r = this.rows.get(m.jobId);
    if (!r) return clone(m);
    return {
      ...clone(m),
      type: r.type,
      clientId: r.clientId,
      ...(r.flowKey !== undefined ? { flowKey: r.flowKey } : {}),
      ...(r.flowLimit !== undefined ? { flowLimit: r.flowLimit } : {}),
    };
  }

  async deleteOutbox(ids: readonly string[]): Promise<void> {
    if (!ids.every((id) => /^\d{1,19}$/.test(id)))
      throw new Error(`'ids' must be outbox row ids (bigints); got ${JSON.stringify(ids.slice(0, 3))}…`);
    const gone = new Set(ids.map(Number));
    for (let i = this.outbox.length - 1; i >= 0; i--)
      if (gone.has(this.outbox[i]!.id)) this.outbox.splice(i, 1);
  }

  async countOutbox(): Promise<number> {
    return this.outbox.length;
  }

  /** Relay wake-ups asked for (tests). */
  relayWakeups = 0;

  async wakeRelay(): Promise<void> {
    this.relayWakeups++;
  }

  async reconcileCandidates(
    olderThanMs: number,
    afterId: string | null,
    limit: number,
  ): Promise<ReconcileCandidate[]> {
    const cutoff = this.now().getTime() - olderThanMs;
    return [...this.rows.values()]
      .filter(
        (r) =>
          ACTIVE_STATES.includes(r.state) &&
          r.updateTime.getTime() < cutoff &&
          (afterId === null || r.id > afterId),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit)
      .map((r) => ({
        job: this.view(r),
        childrenDone:
          r.state === 'running' && r.fanOutTotal !== null
            ? this.kids(r.id).filter((k) => isTerminal(k.state)).length >= r.fanOutTotal
            : null,
      }));
  }

  /** After a child reached a terminal state: queue the parent's aggregate step when all are done. */
  private notifyParent(parentId: string): void {
    const p = this.rows.get(parentId);
    if (!p || p.state !== 'running' || p.fanOutTotal === null) return;
    const done = this.kids(parentId).filter((k) => isTerminal(k.state)).length;
    if (done < p.fanOutTotal) return;
    this.enqueue({
      jobId: p.id,
      queue: p.queue,
      kind: 'aggregate',
      attempt: p.attempts,
      priority: p.priority,
      runAt: this.now(),
      requestId: p.requestId,
      replace: false,
    });
    Object.assign(p, { progressMessage: 'aggregating child results', updateTime: this.now() });
  }
}

type CursorKey = readonly [number, string];

const key = (r: Row): CursorKey => [r.createTime.getTime(), r.id];

/** Whether `r` comes after `k` in the list order (create time, then id, both descending). */
function before(r: Row, k: CursorKey): boolean {
  const t = r.createTime.getTime();
  return t < k[0] || (t === k[0] && r.id < k[1]);
}

function encodeCursor(k: CursorKey): string {
  return Buffer.from(JSON.stringify(k)).toString('base64url');
}

function decodeCursor(token: string): CursorKey {
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string')
      return [v[0] as number, v[1]];
  } catch {
    // fall through
  }
  throw new DomainError('REQUEST.INVALID', `'pageToken' is not a token this API issued`);
}
