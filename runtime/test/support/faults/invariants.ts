import type { PrivateDatabase } from './private-postgres.js';

/**
 * The job state machine as ARCHITECTURE.md and runtime/src/domain define it:
 * `queued → running → succeeded | failed → (retry) queued | dead_lettered`, `cancelled`, and
 * RetryJob re-queues dead-lettered/cancelled/failed jobs. Restated here once so the checker does not
 * trust the code it checks; `allowedTransitions.test.ts` compares it with the domain's table.
 */
export const TERMINAL_STATES = ['succeeded', 'dead_lettered', 'cancelled'] as const;
export const ALLOWED_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  // creation is recorded as an event with no previous state
  '': ['queued'],
  queued: ['running', 'cancelled', 'dead_lettered'],
  running: ['succeeded', 'failed', 'queued', 'dead_lettered', 'cancelled'],
  failed: ['queued', 'dead_lettered', 'cancelled'],
  succeeded: [],
  dead_lettered: ['queued'],
  cancelled: ['queued'],
};

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
  /** Σ over jobs of handler starts beyond the attempts that recorded an outcome. */
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
      await c.query<{ job_id: string; from_state: string | null; to_state: string }>(
        `SELECT ${s.eventJobId}::text AS job_id, ${s.eventFrom}::text AS from_state, ${s.eventTo}::text AS to_state
           FROM ${s.events} ORDER BY ${s.eventJobId}, ${s.eventOrder}`,
      )
    ).rows;
    const illegalTransitions: InvariantReport['illegalTransitions'] = [];
    const twoTerminal = new Set<string>();
    const lastEvent = new Map<string, string>();
    const starts = new Map<string, number>();
    const outcomes = new Map<string, number>();
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
      if (from === 'running' && e.to_state !== 'queued')
        outcomes.set(e.job_id, (outcomes.get(e.job_id) ?? 0) + 1);
      if (terminalSet.has(e.to_state)) {
        const n = (terminalSeen.get(e.job_id) ?? 0) + 1;
        terminalSeen.set(e.job_id, n);
      }
      // leaving a terminal state is a re-queue (RetryJob); reaching a second terminal state without it is not
      if (terminalSet.has(from) && e.to_state !== 'queued') twoTerminal.add(e.job_id);
    }
    let duplicateExecutions = 0;
    let jobsExecutedMoreThanOnce = 0;
    let executions = 0;
    for (const [id, n] of starts) {
      executions += n;
      const extra = n - Math.max(1, outcomes.get(id) ?? 0);
      if (extra > 0) {
        duplicateExecutions += extra;
        jobsExecutedMoreThanOnce++;
      }
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
    `SELECT (extract(epoch FROM created_at) * 1000)::bigint::text AS t FROM ${SCHEMA.events}
      WHERE ${SCHEMA.eventTo}::text IN ('${TERMINAL_STATES.join("','")}') ORDER BY created_at`,
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
