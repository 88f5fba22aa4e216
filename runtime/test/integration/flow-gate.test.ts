import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisFlowGate } from '../../src/adapters/flow/redis-flow-gate.js';
import { REDIS_URL } from './helpers.js';

const prefix = `jpt-flow-${randomBytes(4).toString('hex')}`;
const conns: Redis[] = [];
const conn = () => {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  conns.push(r);
  return r;
};
const tick = () => new Promise<void>((r) => setImmediate(r));
const redisNow = async (r: Redis) => {
  const [s, us] = await r.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
};

let admin: Redis;
beforeAll(() => {
  admin = conn();
});

afterAll(async () => {
  const keys = await admin.keys(`{${prefix}:flow}*`);
  if (keys.length > 0) await admin.del(...keys);
  await Promise.all(conns.map((c) => c.quit()));
});

describe('RedisFlowGate concurrency slots', () => {
  it('never more than the limit per key across many connections', async () => {
    let inFlight = 0;
    let max = 0;
    let done = 0;
    const worker = async (w: number) => {
      const gate = new RedisFlowGate(conn(), prefix);
      for (let i = 0; i < 10; i++) {
        const holder = `w${w}-${i}`;
        const req = { key: 'tenant-a', limit: 3, holder, leaseMs: 30_000 };
        while (!(await gate.acquire(req)).ok) await tick();
        inFlight++;
        max = Math.max(max, inFlight);
        await tick();
        await tick();
        inFlight--;
        await gate.release(req);
        done++;
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
    expect(done).toBe(120);
    expect(max).toBe(3);
    expect(await admin.zcard(`{${prefix}:flow}:slot:tenant-a`)).toBe(0);
  });

  it('a per-queue cap over all keys, and reacquiring a held slot renews it', async () => {
    const gate = new RedisFlowGate(conn(), prefix);
    const req = (key: string, holder: string) => ({
      key,
      limit: 5,
      queue: 'q1',
      queueCap: 4,
      holder,
      leaseMs: 30_000,
    });
    for (const [k, h] of [
      ['a', '1'],
      ['a', '2'],
      ['b', '3'],
      ['c', '4'],
    ] as const)
      expect((await gate.acquire(req(k, h))).ok).toBe(true);
    expect(await gate.acquire(req('d', '5'))).toMatchObject({ ok: false, reason: 'queue' });
    expect((await gate.acquire(req('a', '1'))).ok).toBe(true); // already held: a renewal
    await gate.release(req('b', '3'));
    expect((await gate.acquire(req('d', '5'))).ok).toBe(true);
    expect(await gate.renew(req('d', '5'))).toBe(true);
    expect(await gate.renew(req('d', 'never-held'))).toBe(false);
  });

  it('the slot of a kill -9ed holder comes back after its lease, never before', async () => {
    const gate = new RedisFlowGate(conn(), prefix);
    const module = resolve(
      dirname(fileURLToPath(import.meta.url)),
      '../../dist/adapters/flow/redis-flow-gate.js',
    );
    const script = `
      const { Redis } = await import('ioredis');
      const { RedisFlowGate } = await import(${JSON.stringify(module)});
      const gate = new RedisFlowGate(new Redis(${JSON.stringify(REDIS_URL)}), ${JSON.stringify(prefix)});
      const out = [];
      for (const holder of ['dead-1', 'dead-2'])
        out.push(await gate.acquire({ key: 'crashy', limit: 2, holder, leaseMs: 1500 }));
      process.stdout.write(JSON.stringify(out) + '\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const held = await new Promise<{ ok: boolean; expiresAt: number }[]>((res, rej) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) res(JSON.parse(buf) as { ok: boolean; expiresAt: number }[]);
      });
      child.on('exit', (code) => rej(new Error(`holder exited ${code}`)));
    });
    expect(held.map((h) => h.ok)).toEqual([true, true]);
    child.kill('SIGKILL');
    const expiry = Math.min(...held.map((h) => h.expiresAt));
    const req = { key: 'crashy', limit: 2, holder: 'survivor', leaseMs: 30_000 };
    for (;;) {
      const r = await gate.acquire(req);
      if (r.ok) {
        // Granted only once a dead holder's lease had run out (Redis's clock decides).
        expect(await redisNow(admin)).toBeGreaterThanOrEqual(expiry);
        break;
      }
      expect(r.reason).toBe('key');
      await new Promise((res) => setTimeout(res, Math.min(200, Math.max(10, r.retryAfterMs))));
    }
  });

  it('rejects a limit ≤ 0 naming the field', async () => {
    const gate = new RedisFlowGate(admin, prefix);
    await expect(gate.acquire({ key: 'k', limit: 0, holder: 'h', leaseMs: 10 })).rejects.toThrow(
      "'limit' (0) must be an integer ≥ 1",
    );
    await expect(gate.takeRate('k', 10, 0)).rejects.toThrow("'intervalMs' (0) must be an integer ≥ 1");
  });
});

describe('RedisFlowGate rate limits', () => {
  it('at most N starts in any interval, across several connections; over the limit waits', async () => {
    const grants: number[] = [];
    let refused = 0;
    const worker = async () => {
      const gate = new RedisFlowGate(conn(), prefix);
      while (grants.length < 30) {
        const r = await gate.takeRate('ext-api', 10, 400);
        if (r.ok) grants.push(r.at);
        else {
          refused++;
          await new Promise((res) => setTimeout(res, Math.min(50, r.retryAfterMs)));
        }
      }
    };
    await Promise.all(Array.from({ length: 5 }, worker));
    grants.sort((a, b) => a - b);
    expect(refused).toBeGreaterThan(0);
    // Any 11 consecutive grants span at least the interval (the window is half-open).
    for (let i = 0; i + 10 < grants.length; i++)
      expect(grants[i + 10]! - grants[i]!).toBeGreaterThanOrEqual(400);
  });
});
