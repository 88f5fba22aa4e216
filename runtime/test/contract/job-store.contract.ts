/**
 * The JobStore contract: what every implementation of the port must do, run against the
 * PostgreSQL store (runtime/test/integration/job-store-contract.test.ts) and the in-memory store
 * (runtime/test/unit/adapters/in-memory-job-store.test.ts). Nothing here depends on time: every
 * assertion is about states, fencing, events and outbox rows.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/domain/errors.js';
import type { JobError } from '../../src/domain/job.entity.js';
import type { ChildSpec, JobStore, NewJob } from '../../src/ports/job-store.port.js';
import { newJob as fixture } from '../support/new-job.js';

export interface StoreUnderTest {
  readonly store: JobStore;
  readonly close: () => Promise<void>;
}

const ERR: JobError = { code: 'TEST.BROKEN', message: 'broken', retryable: true };
const FATAL: JobError = { code: 'TEST.FATAL', message: 'fatal', retryable: false };

export function describeJobStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`JobStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: JobStore;
    /** A client per test, so lists and outbox reads see only what the test made. */
    let client = '';

    const newJob = (over: Partial<NewJob> = {}): NewJob =>
      fixture(randomUUID(), { clientId: client, requestHash: 'hash-1', ...over });
    const submitted = async (over: Partial<NewJob> = {}) => (await store.insert(newJob(over))).job.id;
    const running = async (over: Partial<NewJob> = {}) => {
      const id = await submitted(over);
      const token = randomUUID();
      const r = await store.startAttempt(id, token, 'w1');
      expect(r.status).toBe('started');
      return { id, token };
    };
    const reasons = async (id: string) =>
      (await store.listEvents(id, 500, null)).items.map((e) => `${e.reason}@${e.attempt}`);
    /** Claims and deletes every outbox row; returns their messages. */
    const drain = async () => {
      const b = await store.claimOutbox(1000);
      await b.ack();
      return b.messages;
    };
    const kidsOf = (parent: string, n: number): ChildSpec[] =>
      Array.from({ length: n }, (_, index) => ({
        id: randomUUID(),
        index,
        type: 'demo.sleep',
        payload: { durationMs: index },
        queue: 'default',
        mode: 'pooled' as const,
        maxAttempts: 2,
      })).map((k) => ({ ...k, payload: { ...k.payload, parent } }));

    beforeAll(async () => {
      sut = await open();
      store = sut.store;
    });
    afterAll(async () => {
      await sut?.close();
    });
    beforeEach(async () => {
      client = `c-${randomUUID().slice(0, 8)}`;
      await drain();
    });

    it('inserts idempotently per (client, key): the replay returns the stored job and its hash', async () => {
      const n = newJob();
      const first = await store.insert(n);
      expect(first).toMatchObject({ created: true, requestHash: 'hash-1' });
      expect(first.job).toMatchObject({
        id: n.id,
        state: 'queued',
        attempts: 0,
        maxAttempts: 3,
        clientId: client,
      });
      const again = await store.insert({ ...n, id: randomUUID(), requestHash: 'hash-2' });
      expect(again).toMatchObject({ created: false, requestHash: 'hash-1' });
      expect(again.job.id).toBe(n.id);
      const other = await store.insert({ ...n, id: randomUUID(), clientId: `${client}-b` });
      expect(other.created).toBe(true);
      expect(await reasons(n.id)).toEqual(['submitted@0']);
      const messages = await drain();
      expect(messages.map((m) => [m.jobId, m.kind, m.attempt])).toEqual(
        expect.arrayContaining([
          [n.id, 'run', 0],
          [other.job.id, 'run', 0],
        ]),
      );
      expect(messages).toHaveLength(2);
    });

    it("carries a job's type, client and flow slot set into its queue message", async () => {
      const n = newJob({ concurrencyKey: 'tenant-1', concurrencyLimit: 2, flowKey: 'k:abc', flowLimit: 2 });
      const { job } = await store.insert(n);
      expect(job).toMatchObject({ concurrencyKey: 'tenant-1', flowKey: 'k:abc' });
      const plain = await submitted();
      const messages = await drain();
      expect(messages.find((m) => m.jobId === n.id)).toMatchObject({
        type: 'demo.sleep',
        clientId: client,
        flowKey: 'k:abc',
        flowLimit: 2,
      });
      const other = messages.find((m) => m.jobId === plain);
      expect(other).toMatchObject({ type: 'demo.sleep', clientId: client });
      expect(other?.flowKey).toBeUndefined();
    });

    it('inserts many in order; a key given twice in one batch is stored once, later entries replay it', async () => {
      const a = newJob();
      const b = newJob();
      const dup = { ...a, id: randomUUID(), requestHash: 'hash-x' };
      const results = await store.insertMany([a, b, dup]);
      expect(results.map((r) => [r.job.id, r.created])).toEqual([
        [a.id, true],
        [b.id, true],
        [a.id, false],
      ]);
      expect(results[2]!.requestHash).toBe('hash-1');
      expect(await store.insertMany([])).toEqual([]);
      expect(await drain()).toHaveLength(2);
    });

    it('reads are scoped to the client; getAny is not', async () => {
      const id = await submitted();
      expect((await store.get(client, id))?.id).toBe(id);
      expect(await store.get(`${client}-other`, id)).toBeNull();
      expect((await store.getAny(id))?.clientId).toBe(client);
      expect(await store.getAny(randomUUID())).toBeNull();
    });

    it('lists newest first with filters and keyset pages that cover everything once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(await submitted({ type: i % 2 === 0 ? 'demo.sleep' : 'other.type' }));
      const { id: run } = await running();
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await store.list(client, {}, 2, cursor);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((j) => j.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([run, ...[...ids].reverse()]);
      const typed = await store.list(client, { type: 'other.type' }, 50, null);
      expect(typed.items.map((j) => j.id)).toEqual([ids[3], ids[1]]);
      expect((await store.list(client, { state: 'running' }, 50, null)).items.map((j) => j.id)).toEqual([
        run,
      ]);
      expect((await store.list(`${client}-other`, {}, 50, null)).items).toEqual([]);
      const forged = await store.list(client, {}, 2, 'not-a-token').catch((e: unknown) => e);
      expect(isDomainError(forged) && forged.code).toBe('REQUEST.INVALID');
    });

    it('pages events in order', async () => {
      const { id, token } = await running();
      await store.succeed(id, token, { ok: true });
      const first = await store.listEvents(id, 2, null);
      expect(first.items.map((e) => e.reason)).toEqual(['submitted', 'attempt_started']);
      const rest = await store.listEvents(id, 2, first.nextCursor);
      expect(rest.items.map((e) => [e.fromState, e.toState, e.reason])).toEqual([
        ['running', 'succeeded', 'handler_succeeded'],
      ]);
      expect(rest.nextCursor).toBeNull();
    });

    it('starts an attempt; a second start of a running job takes over; at the budget it dead-letters', async () => {
      const id = await submitted({ maxAttempts: 2 });
      const t1 = randomUUID();
      const s1 = await store.startAttempt(id, t1, 'w1');
      expect(s1).toMatchObject({
        status: 'started',
        tookOver: false,
        job: { state: 'running', attempts: 1 },
      });
      const t2 = randomUUID();
      const s2 = await store.startAttempt(id, t2, 'w2');
      expect(s2).toMatchObject({ status: 'started', tookOver: true, job: { attempts: 2 } });
      if (s2.status === 'started') expect(s2.job.error?.code).toBe('WORKER.LOST');
      // The first attempt is fenced out.
      expect(await store.reportProgress(id, t1, 10, null)).toBe(false);
      expect(await store.succeed(id, t1, {})).toBeNull();
      const s3 = await store.startAttempt(id, randomUUID(), 'w3');
      expect(s3).toMatchObject({ status: 'dead_lettered', job: { state: 'dead_lettered', attempts: 2 } });
      expect(await reasons(id)).toEqual([
        'submitted@0',
        'attempt_started@1',
        'worker_lost@1',
        'retry_scheduled@1',
        'attempt_started@2',
        'worker_lost@2',
        'attempts_exhausted@2',
      ]);
      expect(await store.startAttempt(id, randomUUID(), 'w4')).toEqual({
        status: 'skipped',
        reason: 'dead_lettered',
      });
      expect(await store.startAttempt(randomUUID(), randomUUID(), 'w4')).toEqual({
        status: 'skipped',
        reason: 'missing',
      });
    });

    it('fences every write of an attempt by its token', async () => {
      const { id, token } = await running();
      const wrong = randomUUID();
      expect(await store.reportProgress(id, wrong, 50, 'x')).toBe(false);
      expect(await store.failAndRetry(id, wrong, ERR, new Date())).toBeNull();
      expect(await store.failAndDeadLetter(id, wrong, ERR)).toBeNull();
      expect(await store.deferUnknownType(id, wrong, ERR, new Date(), true)).toBe(false);
      expect(await store.fanOut(id, wrong, [])).toBe(false);
      expect(await store.succeed(id, wrong, {})).toBeNull();
      expect(await store.reportProgress(id, token, 50, 'half')).toBe(true);
      expect(await store.getAny(id)).toMatchObject({
        state: 'running',
        progress: 50,
        progressMessage: 'half',
      });
      const done = await store.succeed(id, token, { v: 1 });
      expect(done).toMatchObject({ state: 'succeeded', result: { v: 1 }, progress: 100 });
      expect(await store.reportProgress(id, token, 60, null)).toBe(false);
      expect(await store.succeed(id, token, { v: 2 })).toBeNull();
      expect((await store.getAny(id))?.result).toEqual({ v: 1 });
    });

    it('fails and retries, then dead-letters: attempts_exhausted when retryable, unrecoverable when not', async () => {
      const { id, token } = await running();
      const runAt = new Date(Date.now() + 60_000);
      const retried = await store.failAndRetry(id, token, ERR, runAt);
      expect(retried).toMatchObject({ state: 'queued', error: ERR, attempts: 1 });
      expect(retried!.runAt.getTime()).toBe(runAt.getTime());
      const t2 = randomUUID();
      expect((await store.startAttempt(id, t2, 'w')).status).toBe('started');
      expect(await store.failAndDeadLetter(id, t2, ERR)).toMatchObject({
        state: 'dead_lettered',
        attempts: 2,
      });
      expect(await reasons(id)).toEqual([
        'submitted@0',
        'attempt_started@1',
        'attempt_failed@1',
        'retry_scheduled@1',
        'attempt_started@2',
        'attempt_failed@2',
        'attempts_exhausted@2',
      ]);
      const other = await running();
      await store.failAndDeadLetter(other.id, other.token, FATAL);
      expect((await reasons(other.id)).at(-1)).toBe('unrecoverable@1');
    });

    it('puts back a job of an unknown type: released without counting the attempt, or kept', async () => {
      const { id, token } = await running();
      expect(await store.deferUnknownType(id, token, ERR, new Date(), false)).toBe(true);
      expect(await store.getAny(id)).toMatchObject({ state: 'running', attempts: 1 });
      expect(await store.deferUnknownType(id, token, ERR, new Date(), true)).toBe(true);
      expect(await store.getAny(id)).toMatchObject({ state: 'queued', attempts: 0 });
      expect(await store.unknownTypeDeferrals(id)).toBe(2);
      expect(await store.unknownTypeDeferrals(randomUUID())).toBe(0);
    });

    it('dead-letters an abandoned running job without a token; anything else is left alone', async () => {
      const { id } = await running();
      expect(await store.deadLetterAbandoned(id, ERR)).toMatchObject({ state: 'dead_lettered' });
      expect((await reasons(id)).slice(-2)).toEqual(['stalled@1', 'stall_limit@1']);
      const queued = await submitted();
      expect(await store.deadLetterAbandoned(queued, ERR)).toBeNull();
      expect((await store.getAny(queued))?.state).toBe('queued');
    });

    it('fans out idempotently, rolls the children up, and queues the aggregate step once all are terminal', async () => {
      const { id, token } = await running();
      const kids = kidsOf(id, 3);
      await drain();
      expect(await store.fanOut(id, token, kids)).toBe(true);
      expect(
        await store.fanOut(
          id,
          token,
          kids.map((k) => ({ ...k, id: randomUUID() })),
        ),
      ).toBe(true);
      const children = await store.children(id);
      expect(children.map((c) => [c.jobId, c.index, c.state])).toEqual(
        kids.map((k) => [k.id, k.index, 'queued']),
      );
      const runs = await drain();
      expect(runs.map((m) => m.jobId).sort()).toEqual(kids.map((k) => k.id).sort());
      const parent = await store.get(client, id);
      expect(parent).toMatchObject({
        fanOutTotal: 3,
        children: { total: 3, byState: { queued: 3 }, percent: 0 },
      });
      expect((await store.list(client, { parentId: id }, 50, null)).items).toHaveLength(3);
      expect(await store.currentToken(id, 1)).toBe(token);
      expect(await store.currentToken(id, 2)).toBeNull();

      const tokens = kids.map(() => randomUUID());
      for (const [i, k] of kids.entries()) await store.startAttempt(k.id, tokens[i]!, 'w');
      await store.reportProgress(kids[2]!.id, tokens[2]!, 40, null);
      await store.succeed(kids[0]!.id, tokens[0]!, { v: 0 });
      await store.failAndDeadLetter(kids[1]!.id, tokens[1]!, FATAL);
      expect((await store.get(client, id))?.children).toEqual({
        total: 3,
        byState: { succeeded: 1, dead_lettered: 1, running: 1 },
        percent: 80, // (100 + 100 + 40) / 3
      });
      expect(await drain()).toEqual([]); // one child still running: no aggregate yet
      await store.succeed(kids[2]!.id, tokens[2]!, { v: 2 });
      const agg = await drain();
      expect(agg).toEqual([expect.objectContaining({ jobId: id, kind: 'aggregate', attempt: 1 })]);
      expect((await store.children(id)).map((c) => c.state)).toEqual([
        'succeeded',
        'dead_lettered',
        'succeeded',
      ]);
      expect((await store.children(id))[1]!.error).toEqual(FATAL);
    });

    it('an empty fan-out queues its aggregate step at once', async () => {
      const { id, token } = await running();
      await drain();
      expect(await store.fanOut(id, token, [])).toBe(true);
      expect(await drain()).toEqual([expect.objectContaining({ jobId: id, kind: 'aggregate' })]);
    });

    it('cancels a job and the active children of a fan-out; a terminal job is unchanged', async () => {
      const { id, token } = await running();
      const kids = kidsOf(id, 2);
      await store.fanOut(id, token, kids);
      const t0 = randomUUID();
      await store.startAttempt(kids[0]!.id, t0, 'w');
      await store.succeed(kids[0]!.id, t0, {});
      const out = await store.cancel(client, id);
      expect(out).toMatchObject({
        changed: true,
        job: { state: 'cancelled' },
        cancelledChildren: [kids[1]!.id],
      });
      expect((await store.getAny(kids[1]!.id))?.state).toBe('cancelled');
      expect((await reasons(kids[1]!.id)).at(-1)).toBe('parent_cancelled@0');
      expect(await store.succeed(id, token, {})).toBeNull(); // the attempt is fenced out
      expect(await store.cancel(client, id)).toMatchObject({ changed: false, cancelledChildren: [] });
      expect(await store.cancel(`${client}-other`, id)).toBeNull();
    });

    it('redrives a dead-lettered job: attempts keep counting, the budget is granted again', async () => {
      const { id, token } = await running({ maxAttempts: 1 });
      await store.failAndDeadLetter(id, token, ERR);
      await drain();
      const r = await store.retry(client, id);
      expect(r).toMatchObject({
        changed: true,
        job: { state: 'queued', attempts: 1, maxAttempts: 2, error: null },
      });
      expect(await drain()).toEqual([expect.objectContaining({ jobId: id, kind: 'run', replace: true })]);
      const t2 = randomUUID();
      expect(await store.startAttempt(id, t2, 'w')).toMatchObject({
        status: 'started',
        job: { attempts: 2 },
      });
      expect(await store.retry(client, id)).toMatchObject({ changed: false });
      await store.failAndDeadLetter(id, t2, ERR);
      expect((await store.retry(client, id))?.job).toMatchObject({ attempts: 2, maxAttempts: 3 });
      expect(await store.retry(`${client}-other`, id)).toBeNull();
    });

    it('claims outbox rows once across concurrent batches; release gives them back, ack deletes them', async () => {
      for (let i = 0; i < 4; i++) await submitted();
      expect(await store.countOutbox()).toBe(4);
      const a = await store.claimOutbox(3);
      const b = await store.claimOutbox(3);
      expect(a.messages).toHaveLength(3);
      expect(b.messages).toHaveLength(1);
      const ids = [...a.messages, ...b.messages].map((m) => m.jobId);
      expect(new Set(ids).size).toBe(4);
      await a.release();
      await b.ack();
      expect(await store.countOutbox()).toBe(3);
      const c = await store.claimOutbox(10);
      expect(c.messages.map((m) => m.jobId).sort()).toEqual(a.messages.map((m) => m.jobId).sort());
      await c.ack();
      expect(await store.countOutbox()).toBe(0);
      await expect(store.claimOutbox(0)).rejects.toThrow(/'limit'/);
    });

    it('returns the outbox entry of a created job, the message a relay would claim; deleteOutbox removes it', async () => {
      const first = await store.insert(newJob({ idempotencyKey: 'eager-1' }));
      const second = await store.insert(newJob({ idempotencyKey: 'eager-2', flowKey: 'k', flowLimit: 2 }));
      const replay = await store.insert(newJob({ idempotencyKey: 'eager-1' }));
      expect(first.outbox?.id).toMatch(/^\d+$/);
      expect(second.outbox?.id).toMatch(/^\d+$/);
      expect(first.outbox!.id).not.toBe(second.outbox!.id);
      expect(replay.outbox).toBeUndefined();
      expect(first.outbox!.message).toMatchObject({
        jobId: first.job.id,
        queue: 'default',
        kind: 'run',
        attempt: 0,
        replace: false,
        type: 'demo.sleep',
        clientId: client,
      });
      await store.deleteOutbox([first.outbox!.id]);
      await store.deleteOutbox([first.outbox!.id]); // already gone: nothing happens
      expect(await store.countOutbox()).toBe(1);
      const relay = await store.claimOutbox(10);
      // What the relay reads back is what the insert returned.
      expect(relay.messages).toEqual([second.outbox!.message]);
      await relay.ack();
      await store.deleteOutbox([]);
      await expect(store.deleteOutbox(['1; DROP TABLE jobs'])).rejects.toThrow(/'ids'/);
      await store.wakeRelay();
      expect(await store.countOutbox()).toBe(0);
    });

    it('lists reconcile candidates: active jobs by id, keyset-paged, with their fan-out progress', async () => {
      const queued = await submitted();
      const { id: parent, token } = await running();
      const kid = kidsOf(parent, 1);
      await store.fanOut(parent, token, kid);
      const done = await running();
      await store.succeed(done.id, done.token, {});
      const mine = new Set([queued, parent, kid[0]!.id, done.id]);
      // Other tests' jobs are candidates too: walk every page, keep this test's.
      const seen: { id: string; childrenDone: boolean | null }[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await store.reconcileCandidates(0, after, 2);
        if (page.length === 0) break;
        for (const c of page)
          if (mine.has(c.job.id)) seen.push({ id: c.job.id, childrenDone: c.childrenDone });
        const ids = page.map((c) => c.job.id);
        expect([...ids].sort()).toEqual(ids);
        after = ids.at(-1)!;
      }
      expect(seen.map((s) => s.id)).toEqual([queued, parent, kid[0]!.id].sort());
      expect(seen.find((s) => s.id === parent)?.childrenDone).toBe(false);
      expect(seen.find((s) => s.id === queued)?.childrenDone).toBeNull();
    });
  });
}
