/**
 * `jobplane top`: a live terminal dashboard on Ink (React for the terminal): queues, running jobs,
 * recent failures and firing alerts, refreshed every `--interval` seconds. `q` or Ctrl-C quits.
 */
import { Box, render, Text, useApp, useInput } from 'ink';
import { createElement as h, useEffect, useState, type ReactNode } from 'react';
import {
  ClientError,
  type ApiClient,
  type ClientAlert,
  type ClientJob,
  type ClientQueue,
} from './api-client.js';
import { age, when } from './format.js';

interface Snapshot {
  queues: ClientQueue[];
  running: ClientJob[];
  failures: ClientJob[];
  alerts: { configured: boolean; alerts: ClientAlert[] } | null;
  at: Date;
}

/** Reads everything the dashboard shows (alerts are optional: a 503 from Prometheus is shown, not fatal). */
export async function snapshot(client: ApiClient): Promise<Snapshot> {
  const [queues, running, dead, failed, alerts] = await Promise.all([
    client.queues(),
    client.list({ state: 'running', pageSize: '10' }),
    client.list({ state: 'dead_lettered', pageSize: '5' }),
    client.list({ state: 'failed', pageSize: '5' }),
    client.alerts().catch((err: unknown) => {
      if (err instanceof ClientError && err.status !== 0) return null;
      throw err;
    }),
  ]);
  const failures = [...dead.jobs, ...failed.jobs]
    .sort((a, b) => b.createTime.localeCompare(a.createTime))
    .slice(0, 5);
  return { queues: queues.queues, running: running.jobs, failures, alerts, at: new Date() };
}

const cell = (text: string, width: number, color?: string) =>
  h(Box, { width, flexShrink: 0 }, h(Text, { ...(color ? { color } : {}), wrap: 'truncate' }, text));

const row = (...cells: ReactNode[]) => h(Box, { flexDirection: 'row' }, ...cells);

function section(title: string, children: ReactNode[]): ReactNode {
  return h(
    Box,
    { flexDirection: 'column', marginTop: 1 },
    h(Text, { bold: true, underline: true }, title),
    ...children,
  );
}

function Top({ client, intervalMs, url }: { client: ApiClient; intervalMs: number; url: string }) {
  const { exit } = useApp();
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [error, setError] = useState<string | null>(null);
  useInput((input) => {
    if (input === 'q') exit();
  });
  useEffect(() => {
    let stop = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      try {
        setSnap(await snapshot(client));
        setError(null);
      } catch (err) {
        setError(err instanceof ClientError ? `${err.code}: ${err.message}` : String(err));
      }
      if (!stop) timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [client, intervalMs]);

  const header = h(
    Box,
    { flexDirection: 'row', justifyContent: 'space-between' },
    h(Text, { bold: true, color: 'cyan' }, 'jobplane top'),
    h(Text, { dimColor: true }, `${url}  ${snap ? when(snap.at.toISOString()) : 'loading…'}  q: quit`),
  );
  if (!snap) return h(Box, { flexDirection: 'column' }, header, h(Text, {}, error ?? 'loading…'));
  const queues = section('Queues', [
    row(
      cell('QUEUE', 16),
      cell('READY', 8),
      cell('SCHED', 8),
      cell('RUNNING', 9),
      cell('OLDEST', 9),
      cell('OK/1H', 8),
      cell('FAIL/1H', 9),
      cell('DLQ/1H', 8),
    ),
    ...snap.queues.map((q) =>
      row(
        cell(q.queue, 16),
        cell(String(q.ready), 8),
        cell(String(q.scheduled), 8),
        cell(String(q.running), 9),
        cell(age(q.oldestWaitingSeconds), 9),
        cell(String(q.lastHour.succeeded), 8),
        cell(String(q.lastHour.failed), 9, q.lastHour.failed > 0 ? 'yellow' : undefined),
        cell(String(q.lastHour.deadLettered), 8, q.lastHour.deadLettered > 0 ? 'red' : undefined),
      ),
    ),
  ]);
  const running = section(`Running (${snap.running.length}${snap.running.length === 10 ? '+' : ''})`, [
    ...(snap.running.length === 0 ? [h(Text, { dimColor: true }, 'none')] : []),
    ...snap.running.map((j) =>
      row(
        cell(j.id.slice(0, 8), 10),
        cell(j.type, 18),
        cell(`${j.progress.percent}%`, 6),
        cell(j.progress.message ?? '', 40),
      ),
    ),
  ]);
  const failures = section('Recent failures', [
    ...(snap.failures.length === 0 ? [h(Text, { dimColor: true }, 'none')] : []),
    ...snap.failures.map((j) =>
      row(
        cell(j.id.slice(0, 8), 10),
        cell(j.type, 18),
        cell(j.state, 14, 'red'),
        cell(j.error ? `${j.error.code}: ${j.error.message.split('\n')[0]}` : '', 50),
      ),
    ),
  ]);
  const alerts = section('Firing alerts', [
    snap.alerts === null
      ? h(Text, { color: 'yellow' }, 'Prometheus did not answer')
      : !snap.alerts.configured
        ? h(Text, { dimColor: true }, 'not configured (PROMETHEUS_URL on the API)')
        : snap.alerts.alerts.length === 0
          ? h(Text, { color: 'green' }, 'none firing')
          : h(
              Box,
              { flexDirection: 'column' },
              ...snap.alerts.alerts.map((a) =>
                row(cell(a.name, 32, 'red'), cell(a.severity ?? '', 10), cell(a.summary ?? '', 60)),
              ),
            ),
  ]);
  return h(
    Box,
    { flexDirection: 'column' },
    header,
    ...(error ? [h(Text, { color: 'red' }, error)] : []),
    queues,
    running,
    failures,
    alerts,
  );
}

/** Runs the dashboard until `q`; 0 on a normal quit. */
export async function runTop(client: ApiClient, opts: { intervalMs: number; url: string }): Promise<number> {
  const app = render(h(Top, { client, intervalMs: opts.intervalMs, url: opts.url }), { exitOnCtrlC: true });
  await app.waitUntilExit();
  return 0;
}
