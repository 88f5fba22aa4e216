/**
 * `jobplane list|get|submit|cancel|retry|events|watch|top`: a client of a running API. The URL and
 * key come from `--url` / `--key` or JP_API_URL / JP_API_KEY (names the server's configuration
 * never reads, so one shell can run both). Tables by default, `--json` for scripts.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiClient, ClientError, type ClientDetail, type ClientEvent, type ClientJob } from './api-client.js';
import { bar, table, when } from './format.js';

export const CLIENT_COMMANDS = [
  'list',
  'get',
  'submit',
  'cancel',
  'retry',
  'events',
  'watch',
  'top',
] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** Exit codes of the client commands (docs/console.md). */
export const CLIENT_EXIT = {
  ok: 0,
  /** The API refused the request (problem+json printed), e.g. JOB.NOT_FOUND, AUTH.UNAUTHENTICATED. */
  refused: 1,
  usage: 2,
  /** The API could not be reached. */
  unreachable: 3,
  /** watch: the job was dead-lettered. */
  deadLettered: 4,
  /** watch: the job was cancelled. */
  cancelled: 5,
} as const;

export const CLIENT_USAGE = `client commands (talk to a running API; --url or JP_API_URL, default ${DEFAULT_API_URL}; --key or JP_API_KEY):
  list    [--state S] [--type T] [--queue Q] [--parent ID] [--client C] [--since ISO] [--limit N]
  get     <id>                 a job, its children rolled up
  submit  <type> [JSON|@file|-] [--idempotency-key K] [--watch]
  cancel  <id>
  retry   <id>
  events  <id>                 the job's event timeline
  watch   <id>                 live progress bar and events until the job ends
                               exit 0 succeeded, 4 dead-lettered, 5 cancelled
  top     [--interval SECONDS] live terminal dashboard: queues, running jobs, failures, alerts (q quits)
  every client command: --json (machine-readable output); exit 1 refused, 2 usage, 3 API unreachable`;

type Out = { write(s: string): unknown; isTTY?: boolean };

interface Io {
  readonly out: Out;
  readonly err: Out;
  readonly env: Record<string, string | undefined>;
  readonly stdin: () => string;
}

const jobRow = (j: ClientJob) => [
  j.id,
  j.type,
  j.state,
  j.queue,
  `${j.attempts}/${j.maxAttempts}`,
  j.state === 'running' ? `${j.progress.percent}%` : '',
  when(j.createTime),
];
const JOB_HEADERS = ['ID', 'TYPE', 'STATE', 'QUEUE', 'ATTEMPTS', 'PROGRESS', 'CREATED'];

function eventLine(e: ClientEvent): string {
  const from = e.fromState ? `${e.fromState} -> ` : '';
  const detail = e.details ? ` ${JSON.stringify(e.details)}` : '';
  return `${when(e.createTime)}  ${from}${e.toState}  ${e.reason}${e.attempt > 0 ? ` (attempt ${e.attempt})` : ''}${detail}`;
}

function detailText(d: ClientDetail): string {
  const j = d.job;
  const lines = [
    `id          ${j.id}`,
    `type        ${j.type}`,
    `state       ${j.state}`,
    `client      ${j.clientId}`,
    `queue       ${j.queue}`,
    `attempts    ${j.attempts}/${j.maxAttempts}`,
    `progress    ${bar(j.progress.percent)}${j.progress.message ? ` ${j.progress.message}` : ''}`,
    `key         ${j.idempotencyKey}`,
    `created     ${when(j.createTime)}`,
    `started     ${when(j.startTime)}`,
    `finished    ${when(j.finishTime)}`,
  ];
  if (j.parentId) lines.push(`parent      ${j.parentId}`);
  if (d.children) {
    const states = Object.entries(d.children.byState)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ');
    lines.push(`children    ${d.children.total} (${states}) ${bar(d.children.percent)}`);
  }
  if (j.error) lines.push(`error       ${j.error.code}: ${j.error.message.split('\n')[0]}`);
  if (j.result) lines.push(`result      ${JSON.stringify(j.result).slice(0, 400)}`);
  return lines.join('\n');
}

const EXIT_BY_STATE: Record<string, number> = {
  succeeded: CLIENT_EXIT.ok,
  dead_lettered: CLIENT_EXIT.deadLettered,
  cancelled: CLIENT_EXIT.cancelled,
};

/** Follows a job to its end: a redrawn progress line on a terminal, one line per change otherwise. */
async function watch(client: ApiClient, id: string, io: Io, json: boolean): Promise<number> {
  const seen = new Set<string>();
  const tty = Boolean(io.out.isTTY) && !json;
  let status = '';
  const printEvents = async () => {
    const { events } = await client.events(id);
    for (const e of events) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      if (json) io.out.write(`${JSON.stringify({ event: e })}\n`);
      else io.out.write(`${tty ? '\r\x1b[2K' : ''}${eventLine(e)}\n${tty ? status : ''}`);
    }
  };
  await printEvents();
  let lastLine = '';
  const state = await client.follow(id, (d) => {
    const j = d.job;
    const pct = d.children ? d.children.percent : j.progress.percent;
    const msg = d.children ? `children ${d.children.total}` : (j.progress.message ?? '');
    status = `${j.state.padEnd(13)} ${bar(pct)} ${msg}`.trimEnd();
    if (json) io.out.write(`${JSON.stringify({ job: j, children: d.children })}\n`);
    else if (tty) io.out.write(`\r\x1b[2K${status}`);
    else if (status !== lastLine) io.out.write(`${status}\n`);
    lastLine = status;
    void printEvents().catch(() => undefined);
  });
  await printEvents();
  const final = await client.get(id);
  if (tty) io.out.write('\r\x1b[2K');
  if (!json) io.out.write(`${detailText(final)}\n`);
  return EXIT_BY_STATE[state] ?? CLIENT_EXIT.refused;
}

function readPayload(arg: string | undefined, io: Io): unknown {
  const text =
    arg === undefined
      ? '{}'
      : arg === '-'
        ? io.stdin()
        : arg.startsWith('@')
          ? readFileSync(arg.slice(1), 'utf8')
          : arg;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ClientError(
      0,
      'CLIENT.USAGE',
      `the payload is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** Runs one client command; returns the exit code. */
export async function runClient(
  command: ClientCommand,
  argv: readonly string[],
  io: Io = {
    out: process.stdout,
    err: process.stderr,
    env: process.env,
    stdin: () => readFileSync(0, 'utf8'),
  },
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        json: { type: 'boolean', default: false },
        state: { type: 'string' },
        type: { type: 'string' },
        queue: { type: 'string' },
        parent: { type: 'string' },
        client: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
        'idempotency-key': { type: 'string' },
        watch: { type: 'boolean', default: false },
        interval: { type: 'string' },
      },
    });
  } catch (err) {
    io.err.write(
      `jobplane ${command}: ${err instanceof Error ? err.message : String(err)}\n\n${CLIENT_USAGE}\n`,
    );
    return CLIENT_EXIT.usage;
  }
  const { values: o, positionals: pos } = parsed;
  const url = o.url ?? io.env.JP_API_URL ?? DEFAULT_API_URL;
  const key = o.key ?? io.env.JP_API_KEY;
  if (!key) {
    io.err.write(`jobplane ${command}: no API key: pass --key or set JP_API_KEY\n`);
    return CLIENT_EXIT.usage;
  }
  const needId = ['get', 'cancel', 'retry', 'events', 'watch'].includes(command);
  if ((needId && pos.length !== 1) || (command === 'submit' && (pos.length < 1 || pos.length > 2))) {
    io.err.write(`jobplane ${command}: wrong arguments\n\n${CLIENT_USAGE}\n`);
    return CLIENT_EXIT.usage;
  }
  const client = new ApiClient(url, key);
  const print = (v: unknown, text: () => string) =>
    io.out.write(`${o.json ? JSON.stringify(v, null, 2) : text()}\n`);
  try {
    switch (command) {
      case 'list': {
        const r = await client.list({
          state: o.state ?? '',
          type: o.type ?? '',
          queue: o.queue ?? '',
          parent: o.parent ?? '',
          client: o.client ?? '',
          from: o.since ?? '',
          pageSize: o.limit ?? '',
        });
        print(r, () => (r.jobs.length === 0 ? 'no jobs' : table(JOB_HEADERS, r.jobs.map(jobRow))));
        return CLIENT_EXIT.ok;
      }
      case 'get': {
        const d = await client.get(pos[0]!);
        print(d, () => detailText(d));
        return CLIENT_EXIT.ok;
      }
      case 'events': {
        const r = await client.events(pos[0]!);
        print(r, () => r.events.map(eventLine).join('\n'));
        return CLIENT_EXIT.ok;
      }
      case 'cancel':
      case 'retry': {
        const r = command === 'cancel' ? await client.cancel(pos[0]!) : await client.retry(pos[0]!);
        print(r, () => `${r.job.id} ${r.job.state}`);
        return CLIENT_EXIT.ok;
      }
      case 'submit': {
        const payload = readPayload(pos[1], io);
        const r = await client.submit(pos[0]!, payload, o['idempotency-key'] ?? randomUUID());
        r.job.state = r.job.state.replace(/^JOB_STATE_/, '').toLowerCase();
        if (!o.watch) {
          print(r, () => `${r.job.id} ${r.job.state}`);
          return CLIENT_EXIT.ok;
        }
        if (!o.json) io.out.write(`submitted ${r.job.id}\n`);
        return await watch(client, r.job.id, io, o.json);
      }
      case 'watch':
        return await watch(client, pos[0]!, io, o.json);
      case 'top': {
        const seconds = o.interval === undefined ? 2 : Number(o.interval);
        if (!Number.isFinite(seconds) || seconds < 0.5 || seconds > 3600) {
          io.err.write(
            `jobplane top: '--interval' (${o.interval}) must be a number of seconds from 0.5 to 3600\n`,
          );
          return CLIENT_EXIT.usage;
        }
        if (!process.stdout.isTTY) {
          io.err.write(
            "jobplane top: needs a terminal (stdout is not a TTY); use 'jobplane list --json' in scripts\n",
          );
          return CLIENT_EXIT.usage;
        }
        // Ink draws only the last frame when it believes it runs in CI (CI or CONTINUOUS_INTEGRATION
        // set), which it reads once when it loads. top runs on a terminal here, so it always draws.
        for (const name of ['CI', 'CONTINUOUS_INTEGRATION'])
          if (name in process.env) process.env[name] = 'false';
        const { runTop } = await import('./top.js');
        return await runTop(client, { intervalMs: seconds * 1000, url });
      }
    }
  } catch (err) {
    if (err instanceof ClientError) {
      if (o.json)
        io.err.write(`${JSON.stringify({ status: err.status, code: err.code, detail: err.message })}\n`);
      else io.err.write(`jobplane ${command}: ${err.code}: ${err.message}\n`);
      if (err.code === 'CLIENT.USAGE') return CLIENT_EXIT.usage;
      return err.status === 0 ? CLIENT_EXIT.unreachable : CLIENT_EXIT.refused;
    }
    throw err;
  }
  return CLIENT_EXIT.usage;
}
