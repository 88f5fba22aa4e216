import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './net.js';

/**
 * A `nats-server -js` of our own on a random loopback port with its own JetStream store
 * directory, so restarts and kills never touch a shared NATS. A restart keeps the store (streams
 * and their de-duplication state survive, as in production).
 */
export class PrivateNats {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'jobplane-faults-nats-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateNats> {
    const n = new PrivateNats(await freePort());
    await n.launch();
    return n;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  private listening(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = netConnect(this.port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  }

  private async launch(): Promise<void> {
    this.child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.dir], {
      stdio: 'ignore',
    });
    let spawnError: Error | null = null;
    this.child.once('error', (err) => {
      spawnError = err;
    });
    await waitFor(
      () => {
        if (spawnError)
          throw new Error(`nats-server did not start (Debian package nats-server): ${spawnError.message}`);
        return this.listening();
      },
      {
        timeoutMs: 15_000,
        intervalMs: 50,
        message: `nats-server on ${this.port} to listen`,
      },
    );
  }

  /** SIGTERM (or SIGKILL after 5 s) and wait for the exit. */
  async shutdown(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill(signal);
    });
  }

  /** Stops and starts again on the same port with the same store. */
  async restart(downMs = 0, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.shutdown(signal);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.shutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
