/** B1: raw BullMQ — add, addBulk and processing with a no-op handler. */
import { Queue, Worker } from 'bullmq';
import type { Cell } from '../lib/harness.js';
import type { BenchEnv } from '../lib/env.js';
import { redisCommandCount } from '../lib/env.js';

const PAYLOAD = { type: 'demo.sleep', payload: { durationMs: 0 } };

function connection(env: BenchEnv) {
  const url = new URL(env.redisUrl);
  return { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };
}

/** add: one job per call, `inFlight` calls outstanding. */
export function bullmqAddCell(env: BenchEnv, inFlight: number, quick: boolean): Cell {
  const n = quick ? 1_000 : 10_000;
  let queue: Queue | undefined;
  return {
    id: `B1.add.f${inFlight}`,
    group: 'B1',
    title: `BullMQ add, ${inFlight} in flight`,
    method: `Queue.add × ${n} with custom jobId, removeOnComplete/Fail 1000, ${inFlight} outstanding`,
    metrics: { jobs: { unit: 'jobs/s', better: 'higher' } },
    async setup() {
      queue = new Queue('b1-add', { connection: connection(env), prefix: `bench-b1-add-${inFlight}` });
    },
    async run(ctx) {
      const q = queue as Queue;
      await q.obliterate({ force: true });
      let i = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (i < n) {
            const id = `r${ctx.round}-${i++}`;
            await q.add('noop', PAYLOAD, { jobId: id, removeOnComplete: 1000, removeOnFail: 1000 });
          }
        }),
      );
      return { jobs: n / ((performance.now() - started) / 1000) };
    },
    async teardown() {
      await queue?.obliterate({ force: true });
      await queue?.close();
    },
  };
}

export function bullmqAddBulkCell(env: BenchEnv, batch: number, quick: boolean): Cell {
  const n = quick ? 2_000 : 20_000;
  let queue: Queue | undefined;
  return {
    id: `B1.addBulk.b${batch}`,
    group: 'B1',
    title: `BullMQ addBulk, batches of ${batch}`,
    method: `Queue.addBulk × ${n / batch} batches of ${batch}, sequential`,
    metrics: { jobs: { unit: 'jobs/s', better: 'higher' } },
    async setup() {
      queue = new Queue('b1-bulk', { connection: connection(env), prefix: `bench-b1-bulk-${batch}` });
    },
    async run(ctx) {
      const q = queue as Queue;
      await q.obliterate({ force: true });
      const started = performance.now();
      for (let b = 0; b < n / batch; b++) {
        await q.addBulk(
          Array.from({ length: batch }, (_, k) => ({
            name: 'noop',
            data: PAYLOAD,
            opts: { jobId: `r${ctx.round}-${b}-${k}`, removeOnComplete: 1000, removeOnFail: 1000 },
          })),
        );
      }
      return { jobs: n / ((performance.now() - started) / 1000) };
    },
    async teardown() {
      await queue?.obliterate({ force: true });
      await queue?.close();
    },
  };
}

/** process: `n` jobs pre-filled with addBulk, then one Worker drains them with a no-op handler. */
export function bullmqProcessCell(env: BenchEnv, concurrency: number, quick: boolean): Cell {
  const n = quick ? 1_000 : 10_000;
  let queue: Queue | undefined;
  const prefix = `bench-b1-proc-${concurrency}`;
  return {
    id: `B1.process.c${concurrency}`,
    group: 'B1',
    title: `BullMQ process, no-op handler, concurrency ${concurrency}`,
    method: `${n} jobs pre-filled, one Worker (in this process) drains them; removeOnComplete 1000`,
    metrics: {
      jobs: { unit: 'jobs/s', better: 'higher' },
      redisCmdsPerJob: { unit: 'cmds/job (add + process)', better: 'lower' },
    },
    async setup() {
      queue = new Queue('b1-proc', { connection: connection(env), prefix });
    },
    async run(ctx) {
      const q = queue as Queue;
      await q.obliterate({ force: true });
      const commands0 = await redisCommandCount(env.redisUrl);
      for (let b = 0; b < n / 500; b++) {
        await q.addBulk(
          Array.from({ length: 500 }, (_, k) => ({
            name: 'noop',
            data: PAYLOAD,
            opts: { jobId: `r${ctx.round}-${b}-${k}`, removeOnComplete: 1000, removeOnFail: 1000 },
          })),
        );
      }
      let done = 0;
      let started = 0;
      let elapsedMs = 0;
      const finished = new Promise<void>((resolve) => {
        const worker = new Worker(
          'b1-proc',
          async () => {
            if (started === 0) started = performance.now();
            return null;
          },
          { connection: connection(env), prefix, concurrency, autorun: false },
        );
        worker.on('completed', () => {
          if (++done === n) {
            const took = performance.now() - started;
            elapsedMs = took;
            void worker.close().then(() => resolve());
          }
        });
        void worker.run();
      });
      await finished;
      const commands = (await redisCommandCount(env.redisUrl)) - commands0;
      return { jobs: n / (elapsedMs / 1000), redisCmdsPerJob: commands / n };
    },
    async teardown() {
      await queue?.obliterate({ force: true });
      await queue?.close();
    },
  };
}
