/** Child processes for cells that need a separate server process, with CPU and RSS accounting. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { onCleanup } from './cleanup.js';

const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** stdout+stderr so far (last 64 KiB), for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `command args` and resolves when a line matching `ready` appears on stdout or stderr.
 * Rejects if the process exits first or after `timeoutMs`.
 */
export async function startChild(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; ready?: RegExp; timeoutMs?: number },
): Promise<Child> {
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const unregister = onCleanup(() => stopChild(child));
  let buffer = '';
  const append = (chunk: Buffer) => {
    buffer = (buffer + chunk.toString('utf8')).slice(-65_536);
  };
  const handle: Child = {
    name,
    process: child,
    pid: child.pid ?? -1,
    output: () => buffer,
    stop: () => {
      unregister();
      return stopChild(child);
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} not ready after ${options.timeoutMs ?? 30_000} ms:\n${buffer.slice(-2000)}`));
    }, options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      append(chunk);
      if (options.ready?.test(buffer)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before ready:\n${buffer.slice(-2000)}`));
    });
    // Without a ready line, the caller checks readiness itself (e.g. an HTTP health endpoint).
    if (!options.ready)
      child.once('spawn', () => {
        clearTimeout(timer);
        resolve();
      });
  });
  child.removeAllListeners('exit');
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  return handle;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** User + system CPU seconds consumed so far by a process (Linux /proc). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

/** `node` with the tsx loader, for TypeScript servers under bench/servers. */
export const TSX_NODE_ARGS = ['--import', 'tsx'] as const;
