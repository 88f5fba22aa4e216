/**
 * `jobplane list|get|submit|cancel|retry|events|watch|top` as a user runs them: the built CLI
 * (runtime/dist) as a child process against an API listening on a free port, on the real
 * PostgreSQL and Redis. Job progress is driven through the store, so every step is awaited on
 * what the CLI printed, never on time. `top` runs under tmux (a private server) and is read from
 * the screen.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { CLI_PATH } from '../support/faults/supervisor.js';
import { runClient, type ClientCommand } from '../../src/main/client/commands.js';

/** The installed `jobplane` bin: client commands load only the HTTP client. */
const BIN = fileURLToPath(new URL('../../bin/jobplane.js', import.meta.url));
import { pollUntil } from '../support/wait.js';
import {
  API_KEY,
  createEdgeEnv,
  destroyEdgeEnv,
  freePort,
  startEdgeApi,
  type EdgeApi,
  type EdgeEnv,
} from '../support/edge-harness.js';

const run = promisify(execFile);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

describe('jobplane client commands', () => {
  let env: EdgeEnv;
  let api: EdgeApi;
  let url = '';
  /** The command in this process (same code the bin runs), output captured. */
  const cli = async (args: string[], extraEnv: Record<string, string> = {}): Promise<Ran> => {
    let stdout = '';
    let stderr = '';
    const code = await runClient(args[0] as ClientCommand, args.slice(1), {
      out: { write: (s: string) => (stdout += s) },
      err: { write: (s: string) => (stderr += s) },
      env: { JP_API_URL: url, JP_API_KEY: API_KEY, ...extraEnv },
      stdin: () => '{"durationMs": 7}',
    });
    return { code, stdout, stderr };
  };
  /** The installed bin as a child process. */
  const bin = (args: string[], extraEnv: Record<string, string> = {}): Promise<Ran> =>
    run(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', JP_API_URL: url, JP_API_KEY: API_KEY, ...extraEnv },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  /** A running `watch`, its output collected as it arrives. */
  const watching = (id: string) => {
    const child: ChildProcess = spawn(process.execPath, [BIN, 'watch', id], {
      env: { PATH: process.env.PATH ?? '', JP_API_URL: url, JP_API_KEY: API_KEY },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
    return {
      output: () => out,
      until: (text: string | RegExp) =>
        pollUntil(
          async () => (typeof text === 'string' ? out.includes(text) : text.test(out)),
          30_000,
          50,
        ).catch(() => {
          throw new Error(`watch never printed ${String(text)}; got:\n${out}`);
        }),
      exited,
    };
  };

  const submitted = async (payload: unknown = { durationMs: 1 }) => {
    const r = await cli(['submit', 'demo.sleep', JSON.stringify(payload), '--json']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { job: { id: string } }).job.id;
  };

  beforeAll(async () => {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npx tsc -b\` first`);
    env = await createEdgeEnv();
    api = await startEdgeApi(env);
    url = await api.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await api?.close();
    if (env) await destroyEdgeEnv(env);
  });

  it('submits, lists, gets, cancels, retries and shows events; tables by default, --json for scripts', async () => {
    const sub = await cli(['submit', 'demo.sleep', '{"durationMs": 5}', '--idempotency-key', 'cli-1']);
    expect(sub.code, sub.stderr).toBe(0);
    const [id, state] = sub.stdout.trim().split(' ');
    expect(state).toBe('queued');
    const again = await cli(['submit', 'demo.sleep', '{"durationMs": 5}', '--idempotency-key', 'cli-1']);
    expect(again.stdout.trim()).toBe(`${id} queued`); // idempotent

    const list = await cli(['list', '--type', 'demo.sleep']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+TYPE\s+STATE\s+QUEUE\s+ATTEMPTS\s+PROGRESS\s+CREATED$/);
    expect(list.stdout).toContain(`${id}  demo.sleep  queued`);
    const json = JSON.parse((await cli(['list', '--state', 'queued', '--json'])).stdout) as {
      jobs: { id: string }[];
    };
    expect(json.jobs.map((j) => j.id)).toContain(id);

    const get = await cli(['get', id!]);
    expect(get.stdout).toMatch(/^state\s+queued$/m);
    expect(get.stdout).toMatch(/^key\s+cli-1$/m);

    expect((await cli(['cancel', id!])).stdout.trim()).toBe(`${id} cancelled`);
    expect((await cli(['retry', id!])).stdout.trim()).toBe(`${id} queued`);
    const fromStdin = await cli(['submit', 'demo.sleep', '-', '--json']);
    expect(JSON.parse(fromStdin.stdout).job.payload).toEqual({ durationMs: 7, failureRate: 0 });
    // the installed bin, as a user runs it
    const viaBin = await bin(['get', id!, '--json']);
    expect(viaBin.code, viaBin.stderr).toBe(0);
    expect(JSON.parse(viaBin.stdout).job.id).toBe(id);
    const events = await cli(['events', id!]);
    expect(events.stdout).toMatch(/queued\s+submitted/);
    expect(events.stdout).toMatch(/queued -> cancelled/);
    expect(events.stdout).toMatch(/cancelled -> queued\s+retry_requested/);
  });

  it('exits 1 when the API refuses, 2 on usage errors, 3 when the API is unreachable', async () => {
    const missing = await cli(['get', randomUUID()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/JOB\.NOT_FOUND/);
    const badKey = await cli(['list'], { JP_API_KEY: 'wrong-key-0123456789abc' });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/AUTH\.UNAUTHENTICATED/);
    const invalid = await cli(['submit', 'demo.sleep', '{"durationMs": -1}', '--json']);
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stderr)).toMatchObject({ status: 400, code: 'JOB.PAYLOAD_INVALID' });
    expect((await cli(['list', '--colour', 'red'])).code).toBe(2);
    expect((await cli(['get'])).code).toBe(2);
    expect((await cli(['submit', 'demo.sleep', '{not json'])).code).toBe(2);
    const nokey = await cli(['list'], { JP_API_KEY: '' });
    expect(nokey.code).toBe(2);
    expect(nokey.stderr).toMatch(/JP_API_KEY/);
    const closed = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const down = await bin(['list', '--url', closed]);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain(`cannot reach ${closed}: ECONNREFUSED`);
    const piped = await bin(['top']); // stdout is a pipe here, not a terminal
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/needs a terminal/);
  });

  it('watch follows progress and events to the end: exit 0 succeeded, 4 dead-lettered, 5 cancelled', async () => {
    const id = await submitted();
    const w = watching(id);
    await w.until('submitted');
    const token = randomUUID();
    expect((await api.core.store.startAttempt(id, token, 'cli-test')).status).toBe('started');
    await w.until('attempt_started');
    await api.core.store.reportProgress(id, token, 50, 'half way');
    await w.until(/running\s+\[#{15}-{15}\]\s+50% half way/);
    await api.core.store.succeed(id, token, { sleptMs: 1, attempt: 1 });
    expect(await w.exited).toBe(0);
    expect(w.output()).toMatch(/running -> succeeded/);
    expect(w.output()).toMatch(/^state\s+succeeded$/m);

    const dl = await submitted();
    const w2 = watching(dl);
    await w2.until('submitted');
    const t2 = randomUUID();
    await api.core.store.startAttempt(dl, t2, 'cli-test');
    await api.core.store.failAndDeadLetter(dl, t2, {
      code: 'TEST.BROKEN',
      message: 'broken',
      retryable: false,
    });
    expect(await w2.exited).toBe(4);
    expect(w2.output()).toMatch(/^error\s+TEST\.BROKEN: broken$/m);

    const c = await submitted();
    const w3 = watching(c);
    await w3.until('submitted');
    expect((await cli(['cancel', c])).code).toBe(0);
    expect(await w3.exited).toBe(5);
  });

  it('top draws queues, running jobs and failures in a terminal and quits on q', async () => {
    const running = await submitted();
    await api.core.store.startAttempt(running, randomUUID(), 'cli-test');
    const socket = `jobplane-test-${randomBytes(4).toString('hex')}`;
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);
    // CI=true as on a CI runner: top still draws every frame on a terminal.
    const cmd = [
      'env',
      'CI=true',
      process.execPath,
      BIN,
      'top',
      '--url',
      url,
      '--key',
      API_KEY,
      '--interval',
      '0.5',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    await tmux('new-session', '-d', '-s', 'top', '-x', '160', '-y', '50', cmd);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', 'top').then((r) => r.stdout);
      const shown = await pollUntil(
        async () => {
          const s = await screen();
          return s.includes('Queues') && s.includes(running.slice(0, 8)) ? s : null;
        },
        // Inside the test's 30 s budget, so a failure shows the screen instead of a bare timeout.
        20_000,
        100,
      ).catch(async () => {
        throw new Error(`top never showed the running job; screen:\n${await screen()}`);
      });
      expect(shown).toContain('jobplane top');
      expect(shown).toMatch(/QUEUE\s+READY\s+SCHED\s+RUNNING/);
      expect(shown).toMatch(/default\s+\d+\s+\d+\s+1\s/);
      expect(shown).toContain('Recent failures');
      expect(shown).toMatch(/not configured/);
      await tmux('send-keys', '-t', 'top', 'q');
      await pollUntil(
        () =>
          tmux('has-session', '-t', 'top').then(
            () => false,
            () => true,
          ),
        15_000,
        100,
      );
    } finally {
      await tmux('kill-server').catch(() => undefined);
    }
  });
});
