import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpStatus, waitFor } from './net.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The built CLI (`npx tsc -b` produces it); the suite runs the same artefact the image runs. */
export const CLI_PATH = resolve(here, '../../../dist/main/cli.js');
/** The OpenTelemetry instrumentation module, `--import`ed like the image does (a no-op without OTEL_* endpoint). */
export const INSTRUMENT_PATH = resolve(here, '../../../dist/main/instrument.js');

/**
 * Start-up budget of a child process. The waits fail at once when the process exits; otherwise
 * they wait this long, because start-up is CPU-bound and a busy 2-core box stretches it: the API
 * took 7–14 s to listen at load average 18–20 and over 30 s with several processes starting at
 * once. It is a precondition of the tests, not a speed target (benchmarks measure speed).
 */
export const STARTUP_MS = 90_000;

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

export interface ProcessSpec {
  /** Unique label used in log file names and messages, e.g. `worker-1`. */
  readonly name: string;
  /** `jobplane` subcommand (`api`, `worker`, `relay`, `migrate`, `run-one`). */
  readonly command: string;
  readonly env: Record<string, string>;
  /** URL that answers 200 once the process is up (its /healthz). */
  readonly healthUrl?: string;
  /** Extra node flags (e.g. `--import` of a test-only preload). */
  readonly nodeArgs?: readonly string[];
}

/** One child process of the `jobplane` CLI; restartable under the same name and log file. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<ExitInfo> | undefined;
  private log: WriteStream | undefined;
  readonly exits: ExitInfo[] = [];
  starts = 0;
  /** Restart after an exit the test did not ask for (like a Deployment would), after this delay. */
  autoRestartMs: number | undefined;
  private expectingExit = false;

  constructor(
    readonly spec: ProcessSpec,
    readonly logPath: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(extraEnv: Record<string, string> = {}): void {
    if (this.running) throw new Error(`${this.spec.name} is already running (pid ${this.pid})`);
    this.log ??= createWriteStream(this.logPath, { flags: 'a' });
    this.starts++;
    this.log.write(`\n===== start #${this.starts} ${new Date().toISOString()} ${this.spec.command} =====\n`);
    const child = spawn(
      process.execPath,
      ['--import', INSTRUMENT_PATH, ...(this.spec.nodeArgs ?? []), CLI_PATH, this.spec.command],
      {
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...this.spec.env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.expectingExit = false;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.exitPromise = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        const info = { code, signal, at: Date.now() };
        this.exits.push(info);
        this.log?.write(`\n===== exit code=${code} signal=${signal} ${new Date().toISOString()} =====\n`);
        resolveExit(info);
        if (this.autoRestartMs !== undefined && !this.expectingExit) {
          setTimeout(() => {
            if (!this.running && !this.expectingExit) this.start();
          }, this.autoRestartMs);
        }
      });
    });
  }

  /** Waits until the health URL answers 200 (or, without one, until the process has stayed up 300 ms). */
  async waitHealthy(timeoutMs = STARTUP_MS): Promise<number> {
    const url = this.spec.healthUrl;
    if (url === undefined)
      return waitFor(() => this.running, { timeoutMs: 300, message: `${this.spec.name} up` }).then(() => 0);
    return waitFor(
      async () => {
        if (!this.running)
          throw new Error(`${this.spec.name} exited: ${JSON.stringify(this.exits.at(-1))}\n${this.tail(30)}`);
        return (await httpStatus(url)) === 200;
      },
      { timeoutMs, intervalMs: 100, message: `${this.spec.name} healthy at ${url}` },
    );
  }

  /** Sends `sig`; the exit that follows is expected (no auto-restart). */
  signal(sig: NodeJS.Signals): void {
    this.expectingExit = true;
    if (this.running) this.child?.kill(sig);
  }

  /** kill -9 and wait for the exit. */
  async kill9(): Promise<ExitInfo | undefined> {
    this.expectingExit = true;
    if (!this.running) return undefined;
    this.child?.kill('SIGKILL');
    return this.exitPromise;
  }

  /** Resolves the next exit (or undefined after `timeoutMs`). */
  async waitExit(timeoutMs: number): Promise<ExitInfo | undefined> {
    if (!this.exitPromise) return undefined;
    if (!this.running) return this.exits.at(-1);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), timeoutMs);
    });
    const result = await Promise.race([this.exitPromise, timeout]);
    clearTimeout(timer);
    return result;
  }

  async restart(timeoutMs = STARTUP_MS): Promise<number> {
    await this.kill9();
    this.start();
    return this.waitHealthy(timeoutMs);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.expectingExit = true;
    this.autoRestartMs = undefined;
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    if ((await this.waitExit(graceMs)) === undefined) await this.kill9();
  }

  tail(lines = 40): string {
    if (!existsSync(this.logPath)) return '';
    const all = readFileSync(this.logPath, 'utf8').split('\n');
    return all.slice(-lines).join('\n');
  }

  /** Parsed pino JSON records of the log so far (non-JSON lines skipped). */
  records(): Record<string, unknown>[] {
    if (!existsSync(this.logPath)) return [];
    const out: Record<string, unknown>[] = [];
    for (const line of readFileSync(this.logPath, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut by kill -9
      }
    }
    return out;
  }

  closeLog(): void {
    this.log?.end();
    this.log = undefined;
  }
}

/**
 * Owns every child of one test file: spawns them with their own log file, prints the tail of
 * every log when asked (on failure), and kills everything in `stopAll` (call it from afterAll).
 */
export class Supervisor {
  readonly dir = mkdtempSync(join(tmpdir(), 'jobplane-faults-'));
  private readonly procs = new Map<string, ManagedProcess>();

  add(spec: ProcessSpec): ManagedProcess {
    if (this.procs.has(spec.name)) throw new Error(`process '${spec.name}' already exists`);
    const p = new ManagedProcess(spec, join(this.dir, `${spec.name}.log`));
    this.procs.set(spec.name, p);
    return p;
  }

  get(name: string): ManagedProcess {
    const p = this.procs.get(name);
    if (!p) throw new Error(`no process '${name}'`);
    return p;
  }

  all(): ManagedProcess[] {
    return [...this.procs.values()];
  }

  /** Tail of every log, for a failing test's output. */
  dump(lines = 40): string {
    return this.all()
      .map((p) => `----- ${p.spec.name} (${p.logPath}) -----\n${p.tail(lines)}`)
      .join('\n');
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all().map((p) => p.stop(3000).catch(() => p.kill9())));
    for (const p of this.all()) p.closeLog();
  }

  /** Removes the log folder (keep it when a test failed: the path is printed in `dump`). */
  removeLogs(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
