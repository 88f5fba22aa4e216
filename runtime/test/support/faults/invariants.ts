import type { PrivateDatabase } from './private-postgres.js';

/**
 * The job state machine of docs/runtime.md and runtime/src/domain/job-state.ts, restated once so the
 * checker does not trust the code it checks (harness.test.ts compares the two tables):
 * `queued → running → succeeded | failed`, `failed → queued (retry) | dead_lettered`,
 * `queued | running → cancelled`, `failed | dead_lettered | cancelled → queued` (RetryJob).
 * A take-over after a lost worker is recorded as running → failed (worker_lost) → queued → running.
 */
export const TERMINAL_STATES = ['succeeded', 'dead_lettered', 'cancelled'] as const;
export const ALLOWED_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  // creation is recorded as an event with no previous state (or not at all)
  '': ['queued'],
  queued: ['running', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  failed: ['queued', 'dead_lettered'],
  succeeded: [],
  dead_lettered: ['queued'],
  cancelled: ['queued'],
};

/**
 * An attempt that ran (part of) the handler and was then re-run without the handler having failed:
 * its worker died or froze (`worker_lost`, `stalled`) or a drain ran out of budget (WORKER.SHUTDOWN).
 */
const INTERRUPTED_REASONS = ['worker_lost', 'stalled'];
const INTERRUPTED_CODES = ['WORKER.SHUTDOWN', 'WORKER.LOST'];

export interface InvariantReport {
  readonly accepted: number;
  readonly rows: number;
  readonly terminal: number;
  /** Accepted ids with no row: LOST jobs. Must be empty. */
  readonly lost: string[];
  /** Rows no client was told about (only possible when a client gave up). */
  readonly unacknowledgedRows: number;
  readonly nonTerminal: { id: string; state: string }[];
  readonly byState: Record<string, number>;
  /** Events that leave a terminal state other than by RetryJob, or jump outside the graph. */
  readonly illegalTransitions: { jobId: string; from: string; to: string }[];
  /** Jobs whose event history reaches a terminal state twice (e.g. succeeded then dead_lettered). */
  readonly twoTerminal: string[];
  /** Jobs whose current row state differs from the last event's state. */
  readonly rowEventMismatch: { id: string; row: string; lastEvent: string }[];
  /** Attempts that were interrupted (worker lost/stalled/drain budget) and ran again. */
  readonly duplicateExecutions: number;
  readonly jobsExecutedMoreThanOnce: number;
  readonly executions: number;
}

/**
 * The schema the checker reads. Only these names tie the checker to the runtime's migrations.
 */
export const SCHEMA = {
  jobs: 'jobs',
  jobId: 'id',
  jobState: 'state',
  events: 'job_events',
  eventJobId: 'job_id',
  eventFrom: 'from_state',
  eventTo: 'to_state',
  eventOrder: 'id',
} as const;

/** Checks the "nothing lost" invariants over SQL, after the queues drained. */
export async function checkInvariants(
  db: PrivateDatabase,
  acceptedIds: readonly string[],
): Promise<InvariantReport> {
  const s = SCHEMA;
  return db.withClient(async (c) => {
    const rows = (
      await c.query<{ id: string; state: string }>(
        `SELECT ${s.jobId}::text AS id, ${s.jobState}::text AS state FROM ${s.jobs}`,
      )
    ).rows;
    const stateById = new Map(rows.map((r) => [r.id, r.state]));
    const lost = acceptedIds.filter((id) => !stateById.has(id));
    const acceptedSet = new Set(acceptedIds);
    const byState: Record<string, number> = {};
    for (const r of rows) byState[r.state] = (byState[r.state] ?? 0) + 1;
    const terminalSet = new Set<string>(TERMINAL_STATES);
    const nonTerminal = rows.filter((r) => !terminalSet.has(r.state));

    const events = (
      await c.query<{
        job_id: string;
        from_state: string | null;
        to_state: string;
        reason: string;
        code: string | null;
      }>(
        `SELECT ${s.eventJobId}::text AS job_id, ${s.eventFrom}::text AS from_state, ${s.eventTo}::text AS to_state,
                reason, details ->> 'code' AS code
           FROM ${s.events} ORDER BY ${s.eventJobId}, ${s.eventOrder}`,
      )
    ).rows;
    const illegalTransitions: InvariantReport['illegalTransitions'] = [];
    const twoTerminal = new Set<string>();
    const lastEvent = new Map<string, string>();
    const starts = new Map<string, number>();
    const interrupted = new Map<string, number>();
    const terminalSeen = new Map<string, number>();
    for (const e of events) {
      const from = e.from_state ?? '';
      const prev = lastEvent.get(e.job_id) ?? '';
      // every event must continue from where the previous one left the job
      if (from !== prev || !(ALLOWED_TRANSITIONS[from] ?? []).includes(e.to_state)) {
        illegalTransitions.push({
          jobId: e.job_id,
          from: from === prev ? from : `${prev}≠${from}`,
          to: e.to_state,
        });
      }
      lastEvent.set(e.job_id, e.to_state);
      if (e.to_state === 'running') starts.set(e.job_id, (starts.get(e.job_id) ?? 0) + 1);
      if (
        from === 'running' &&
        (INTERRUPTED_REASONS.includes(e.reason) || INTERRUPTED_CODES.includes(e.code ?? ''))
      ) {
        interrupted.set(e.job_id, (interrupted.get(e.job_id) ?? 0) + 1);
      }
      // A second terminal event is legal only after an explicit re-queue out of a terminal state (RetryJob).
      if (terminalSet.has(from) && e.to_state === 'queued') terminalSeen.set(e.job_id, 0);
      if (terminalSet.has(e.to_state)) {
        const n = (terminalSeen.get(e.job_id) ?? 0) + 1;
        terminalSeen.set(e.job_id, n);
        if (n > 1) twoTerminal.add(e.job_id);
      }
    }
    let duplicateExecutions = 0;
    let jobsExecutedMoreThanOnce = 0;
    let executions = 0;
    for (const n of starts.values()) executions += n;
    for (const n of interrupted.values()) {
      duplicateExecutions += n;
      jobsExecutedMoreThanOnce++;
    }
    const rowEventMismatch: InvariantReport['rowEventMismatch'] = [];
    for (const r of rows) {
      const le = lastEvent.get(r.id);
      if (le !== undefined && le !== r.state)
        rowEventMismatch.push({ id: r.id, row: r.state, lastEvent: le });
    }
    return {
      accepted: acceptedIds.length,
      rows: rows.length,
      terminal: rows.length - nonTerminal.length,
      lost,
      unacknowledgedRows: rows.filter((r) => !acceptedSet.has(r.id)).length,
      nonTerminal,
      byState,
      illegalTransitions,
      twoTerminal: [...twoTerminal],
      rowEventMismatch,
      duplicateExecutions,
      jobsExecutedMoreThanOnce,
      executions,
    };
  });
}

/** Waits until every job row is terminal (or `timeoutMs`); returns the time it took. */
export async function waitDrained(
  db: PrivateDatabase,
  timeoutMs: number,
  expectRows?: number,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    const [r] = await db.query<{ total: string; open: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE ${SCHEMA.jobState}::text NOT IN ('${TERMINAL_STATES.join("','")}')) AS open FROM ${SCHEMA.jobs}`,
    );
    if (r && Number(r.open) === 0 && (expectRows === undefined || Number(r.total) >= expectRows))
      return Date.now() - start;
    if (Date.now() - start > timeoutMs) return -1;
    await new Promise((res) => setTimeout(res, 250));
  }
}

/** Completion timestamps (ms) of terminal transitions, for recovery-time figures. */
export async function completionTimes(db: PrivateDatabase): Promise<number[]> {
  const rows = await db.query<{ t: string }>(
    `SELECT (extract(epoch FROM create_time) * 1000)::bigint::text AS t FROM ${SCHEMA.events}
      WHERE ${SCHEMA.eventTo}::text IN ('${TERMINAL_STATES.join("','")}') ORDER BY create_time`,
  );
  return rows.map((r) => Number(r.t));
}

/** First completion strictly after `t` minus `t`: how long work stopped after a fault. */
export function recoveryAfter(times: readonly number[], t: number): number | undefined {
  const next = times.find((x) => x > t);
  return next === undefined ? undefined : next - t;
}

/** Compact one-line summary for logs and the docs table. */
export function summarize(r: InvariantReport): string {
  return `accepted=${r.accepted} rows=${r.rows} terminal=${r.terminal} lost=${r.lost.length} illegal=${r.illegalTransitions.length} twoTerminal=${r.twoTerminal.length} duplicates=${r.duplicateExecutions} states=${JSON.stringify(r.byState)}`;
}

/** Ids of jobs in `state` right now (e.g. the running ones a fault is about to hit). */
export async function jobsInState(db: PrivateDatabase, state: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT ${SCHEMA.jobId}::text AS id FROM ${SCHEMA.jobs} WHERE ${SCHEMA.jobState} = $1`,
    [state],
  );
  return rows.map((r) => r.id);
}

/**
 * Recovery of the jobs a fault hit: ms from `faultAt` until the last of `ids` reached a terminal
 * state (undefined when `ids` is empty or one never finished).
 */
export async function affectedRecoveryMs(
  db: PrivateDatabase,
  ids: readonly string[],
  faultAt: number,
): Promise<number | undefined> {
  if (ids.length === 0) return undefined;
  const [r] = await db.query<{ done: string; t: string | null }>(
    `SELECT count(DISTINCT ${SCHEMA.eventJobId}) AS done, (extract(epoch FROM max(create_time)) * 1000)::bigint::text AS t
       FROM ${SCHEMA.events}
      WHERE ${SCHEMA.eventJobId}::text = ANY($1) AND ${SCHEMA.eventTo}::text IN ('${TERMINAL_STATES.join("','")}')`,
    [ids],
  );
  if (!r || r.t === null || Number(r.done) < ids.length) return undefined;
  return Math.max(0, Number(r.t) - faultAt);
}

/** Ids of the jobs a given worker process (by pid) is running right now. */
export async function runningOnWorker(db: PrivateDatabase, pid: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM jobs WHERE state = 'running' AND worker LIKE $1`,
    [`%:${pid}`],
  );
  return rows.map((r) => r.id);
}

/**
 * How long new work was stalled by a fault: ms from `faultAt` until the first attempt start of a
 * job among `ids` (jobs submitted after the fault).
 */
export async function firstStartAfter(
  db: PrivateDatabase,
  ids: readonly string[],
  faultAt: number,
): Promise<number | undefined> {
  if (ids.length === 0) return undefined;
  const [r] = await db.query<{ t: string | null }>(
    `SELECT (extract(epoch FROM min(create_time)) * 1000)::bigint::text AS t FROM job_events
      WHERE to_state = 'running' AND job_id::text = ANY($1)`,
    [ids],
  );
  return r?.t == null ? undefined : Math.max(0, Number(r.t) - faultAt);
}

/**
 * Pick-up time of the jobs a fault orphaned: ms from `faultAt` until the last of `ids` was
 * started again (taken over) or finished, whichever came first for each job.
 */
export async function affectedRestartMs(
  db: PrivateDatabase,
  ids: readonly string[],
  faultAt: number,
): Promise<number | undefined> {
  if (ids.length === 0) return undefined;
  const rows = await db.query<{ t: string }>(
    `SELECT (extract(epoch FROM min(create_time)) * 1000)::bigint::text AS t FROM job_events
      WHERE job_id::text = ANY($1) AND create_time > to_timestamp($2 / 1000.0)
        AND to_state IN ('running', '${TERMINAL_STATES.join("','")}')
      GROUP BY job_id`,
    [ids, faultAt],
  );
  if (rows.length < ids.length) return undefined;
  return Math.max(...rows.map((r) => Number(r.t) - faultAt));
}
