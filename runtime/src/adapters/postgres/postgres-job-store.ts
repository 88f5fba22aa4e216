import type pg from 'pg';
import type { Job, JobError } from '../../domain/job.entity.js';
import type { ChildSpec, JobStore, ListFilter, NewJob } from '../../ports/job-store.port.js';
import { DEFAULT_GROUP_COMMIT, type GroupCommitOptions } from './group-commit.js';
import { PgJobAttempts } from './job-attempts.js';
import { PgJobCommands } from './job-commands.js';
import { PgJobFanOuts } from './job-fan-outs.js';
import { PgJobOutbox } from './job-outbox.js';
import { PgJobReads } from './job-reads.js';
import { PgJobReconciliation } from './job-reconciliation.js';
import { PgJobSubmissions } from './job-submissions.js';

/**
 * PostgreSQL implementation of the JobStore port (see migrations/ for the schema), one file per
 * concern: submissions (group commit), reads, attempts, fan-outs, client commands, the outbox and
 * reconciliation. They share the pool and the fan-out completion check (store-part.ts).
 */
export class PostgresJobStore implements JobStore {
  private readonly submissions: PgJobSubmissions;
  private readonly reads: PgJobReads;
  private readonly attempts: PgJobAttempts;
  private readonly fanOuts: PgJobFanOuts;
  private readonly commands: PgJobCommands;
  private readonly outbox: PgJobOutbox;
  private readonly reconciliation: PgJobReconciliation;

  /** `opts.eagerPublish`: see PgJobSubmissions (the API publishes its submissions itself). */
  constructor(
    pool: pg.Pool,
    groupCommit: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
    opts: { readonly eagerPublish?: boolean } = {},
  ) {
    this.submissions = new PgJobSubmissions(pool, groupCommit, opts.eagerPublish ?? false);
    this.reads = new PgJobReads(pool);
    this.attempts = new PgJobAttempts(pool, groupCommit);
    this.fanOuts = new PgJobFanOuts(pool);
    this.commands = new PgJobCommands(pool);
    this.outbox = new PgJobOutbox(pool);
    this.reconciliation = new PgJobReconciliation(pool);
  }

  /** Batches and items each group committer carried (tests, benchmarks). */
  groupCommitStats(): Record<'inserts' | 'starts' | 'successes', { batches: number; items: number }> {
    return { inserts: this.submissions.stats(), ...this.attempts.stats() };
  }

  insert(job: NewJob) {
    return this.submissions.insert(job);
  }
  insertMany(jobs: readonly NewJob[]) {
    return this.submissions.insertMany(jobs);
  }

  get(clientId: string, id: string) {
    return this.reads.get(clientId, id);
  }
  getAny(id: string) {
    return this.reads.getAny(id);
  }
  list(clientId: string, filter: ListFilter, pageSize: number, cursor: string | null) {
    return this.reads.list(clientId, filter, pageSize, cursor);
  }
  listEvents(jobId: string, pageSize: number, afterId: string | null) {
    return this.reads.listEvents(jobId, pageSize, afterId);
  }

  startAttempt(id: string, token: string, worker: string) {
    return this.attempts.startAttempt(id, token, worker);
  }
  reportProgress(id: string, token: string, percent: number, message: string | null) {
    return this.attempts.reportProgress(id, token, percent, message);
  }
  succeed(id: string, token: string, result: Record<string, unknown>) {
    return this.attempts.succeed(id, token, result);
  }
  failAndRetry(id: string, token: string, error: JobError, runAt: Date) {
    return this.attempts.failAndRetry(id, token, error, runAt);
  }
  deferUnknownType(id: string, token: string, error: JobError, runAt: Date, release: boolean) {
    return this.attempts.deferUnknownType(id, token, error, runAt, release);
  }
  unknownTypeDeferrals(id: string) {
    return this.attempts.unknownTypeDeferrals(id);
  }
  failAndDeadLetter(id: string, token: string, error: JobError) {
    return this.attempts.failAndDeadLetter(id, token, error);
  }
  currentToken(id: string, attempt: number) {
    return this.attempts.currentToken(id, attempt);
  }

  fanOut(id: string, token: string, children: readonly ChildSpec[]) {
    return this.fanOuts.fanOut(id, token, children);
  }
  children(id: string) {
    return this.fanOuts.children(id);
  }

  cancel(clientId: string, id: string) {
    return this.commands.cancel(clientId, id);
  }
  retry(clientId: string, id: string): Promise<{ job: Job; changed: boolean } | null> {
    return this.commands.retry(clientId, id);
  }

  claimOutbox(limit: number) {
    return this.outbox.claimOutbox(limit);
  }
  deleteOutbox(ids: readonly string[]) {
    return this.outbox.deleteOutbox(ids);
  }
  wakeRelay() {
    return this.outbox.wakeRelay();
  }
  countOutbox() {
    return this.outbox.countOutbox();
  }

  reconcileCandidates(olderThanMs: number, afterId: string | null, limit: number) {
    return this.reconciliation.reconcileCandidates(olderThanMs, afterId, limit);
  }
  deadLetterAbandoned(id: string, error: JobError) {
    return this.reconciliation.deadLetterAbandoned(id, error);
  }
}
