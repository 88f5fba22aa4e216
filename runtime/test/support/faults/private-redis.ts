import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './net.js';

const execFileP = promisify(execFile);

/**
 * A redis-server of our own on a random loopback port, so destructive faults (SHUTDOWN NOSAVE,
 * FLUSHALL, CLIENT KILL, SIGSTOP, CONFIG SET maxmemory-policy) never touch a shared Redis.
 * Started without persistence: a restart comes back empty, which is the fault we want.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'jobplane-faults-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.launch();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Runs one command through redis-cli and returns its raw output (trimmed). */
  async cli(...args: string[]): Promise<string> {
    return this.cliWithTimeout(10_000, ...args);
  }

  async cliWithTimeout(timeoutMs: number, ...args: string[]): Promise<string> {
    const { stdout } = await execFileP('redis-cli', ['-p', String(this.port), ...args], {
      timeout: timeoutMs,
    });
    return stdout.trim();
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.cliWithTimeout(1000, 'PING')) === 'PONG';
    } catch {
      return false;
    }
  }

  private async launch(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
        '--dir',
        this.dir,
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(() => this.ping(), {
      timeoutMs: 10_000,
      intervalMs: 50,
      message: `redis-server on ${this.port} to answer PING`,
    });
  }

  /** SHUTDOWN NOSAVE: every key is gone and every client disconnected. */
  async shutdown(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await this.cli('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Starts again on the same port, empty. */
  async restartEmpty(downMs = 0): Promise<void> {
    await this.shutdown();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  /** Kills every normal client connection (the runtime's ioredis clients reconnect). */
  async killClients(): Promise<number> {
    const out = await this.cli('CLIENT', 'KILL', 'TYPE', 'normal');
    return Number(out) || 0;
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing answers. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    await this.shutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
