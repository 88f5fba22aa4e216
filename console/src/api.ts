/**
 * The console's HTTP client. The API key lives in sessionStorage (this tab only, gone when it
 * closes), is sent as `Authorization: Bearer`, and never appears in a URL.
 */
const KEY = 'jobplane.apiKey';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn: (key: string) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'dead_lettered' | 'cancelled';
export const JOB_STATES: readonly JobState[] = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'dead_lettered',
  'cancelled',
];
export const TERMINAL: readonly JobState[] = ['succeeded', 'dead_lettered', 'cancelled'];

export interface Job {
  id: string;
  clientId: string;
  type: string;
  state: JobState;
  queue: string;
  mode: string;
  priority: number;
  attempts: number;
  maxAttempts: number;
  progress: { percent: number; message: string | null };
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { code: string; message: string; retryable: boolean } | null;
  idempotencyKey: string;
  parentId: string | null;
  childIndex: number | null;
  fanOutTotal: number | null;
  runAt: string;
  createTime: string;
  updateTime: string;
  startTime: string | null;
  finishTime: string | null;
}

export interface ChildrenSummary {
  total: number;
  byState: Partial<Record<JobState, number>>;
  percent: number;
}

export interface JobDetail {
  job: Job;
  children: ChildrenSummary | null;
  hasView: boolean;
}

export interface JobEvent {
  id: string;
  fromState: JobState | null;
  toState: JobState;
  attempt: number;
  reason: string;
  details: Record<string, unknown> | null;
  createTime: string;
}

export interface JobType {
  type: string;
  queue: string;
  mode: string;
  submittable: boolean;
  hasView: boolean;
  description?: string;
  example?: unknown;
}

export interface Session {
  scope: 'client' | 'admin';
  clientId: string | null;
  jobTypes: JobType[];
  alertsConfigured: boolean;
  grafana: { title: string; url: string }[];
}

export interface QueueRow {
  queue: string;
  ready: number;
  scheduled: number;
  running: number;
  oldestWaitingSeconds: number | null;
  lastHour: { succeeded: number; failed: number; deadLettered: number; cancelled: number };
}

export interface Alert {
  name: string;
  state: string;
  severity: string | null;
  summary: string | null;
  activeAt: string | null;
  labels: Record<string, string>;
}

/** An RFC 9457 problem the API answered, or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = session.key();
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
}

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headers(body === undefined ? extra : { 'content-type': 'application/json', ...extra }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ApiError(
      0,
      'NETWORK',
      `the API did not answer: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const p = (json ?? {}) as { code?: string; detail?: string; title?: string };
    throw new ApiError(
      res.status,
      p.code ?? `HTTP_${res.status}`,
      p.detail ?? p.title ?? `HTTP ${res.status}`,
    );
  }
  return json as T;
}

const enc = encodeURIComponent;

export const api = {
  session: () => call<Session>('GET', '/console/api/session'),
  jobs: (params: Record<string, string>) => {
    const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '')).toString();
    return call<{ jobs: Job[]; nextPageToken: string | null }>(
      'GET',
      `/console/api/jobs${qs ? `?${qs}` : ''}`,
    );
  },
  job: (id: string) => call<JobDetail>('GET', `/console/api/jobs/${enc(id)}`),
  events: (id: string) =>
    call<{ events: JobEvent[]; nextPageToken: string | null }>('GET', `/console/api/jobs/${enc(id)}/events`),
  children: (id: string, pageToken = '') =>
    call<{ jobs: Job[]; nextPageToken: string | null }>(
      'GET',
      `/console/api/jobs/${enc(id)}/children${pageToken ? `?pageToken=${enc(pageToken)}` : ''}`,
    ),
  view: (id: string) => call<ResultView>('GET', `/console/api/jobs/${enc(id)}/view`),
  cancel: (id: string) => call<{ job: Job }>('POST', `/console/api/jobs/${enc(id)}/cancel`),
  retry: (id: string) => call<{ job: Job }>('POST', `/console/api/jobs/${enc(id)}/retry`),
  redrive: (ids: string[]) =>
    call<{ redriven: string[]; refused: { id: string; code: string; detail: string }[] }>(
      'POST',
      '/console/api/dead-letters/redrive',
      { ids },
    ),
  queues: () => call<{ queues: QueueRow[] }>('GET', '/console/api/queues'),
  alerts: () =>
    call<{ configured: boolean; alerts: Alert[]; grafana: { title: string; url: string }[] }>(
      'GET',
      '/console/api/alerts',
    ),
  submit: (type: string, payload: unknown, idempotencyKey: string) =>
    call<{ job: { id: string } }>(
      'POST',
      '/v1/jobs',
      { type, payload },
      { 'idempotency-key': idempotencyKey },
    ),
};

/**
 * Follows `/console/api/jobs/{id}/stream` (Server-Sent Events over fetch, so the key travels in a
 * header). Calls `onDetail` per `job` event; reconnects after a dropped connection until the job
 * ends or `stop()` is called.
 */
export function followJob(
  id: string,
  onDetail: (d: JobDetail) => void,
  onEnd: () => void,
  onError: (e: ApiError) => void,
): () => void {
  const ctrl = new AbortController();
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      let ended = false;
      try {
        const res = await fetch(`/console/api/jobs/${enc(id)}/stream`, {
          headers: headers(),
          signal: ctrl.signal,
        });
        if (!res.ok || !res.body) {
          const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
          onError(new ApiError(res.status, p.code ?? `HTTP_${res.status}`, p.detail ?? `HTTP ${res.status}`));
          return;
        }
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let sep: number;
          while ((sep = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, sep);
            buf = buf.slice(sep + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
            }
            if (event === 'job' && data.length > 0) onDetail(JSON.parse(data.join('\n')) as JobDetail);
            if (event === 'end') ended = true;
            if (event === 'error' && data.length > 0) {
              const p = JSON.parse(data.join('\n')) as { status: number; code: string; detail: string };
              onError(new ApiError(p.status, p.code, p.detail));
            }
          }
        }
      } catch {
        if (stopped) return;
      }
      if (ended) {
        onEnd();
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void run();
  return () => {
    stopped = true;
    ctrl.abort();
  };
}

// Result views (the panel kinds of @jobplane/sdk's result-view.ts).
export interface HeatmapPanel {
  kind: 'heatmap';
  title: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  y: number[];
  values: (number | null)[][];
  valueLabel: string;
  highlight?: { x: number; y: number };
}
export interface LinesPanel {
  kind: 'lines';
  title: string;
  xLabel: string;
  yLabel: string;
  xKind?: 'number' | 'time';
  series: { name: string; points: [number, number][] }[];
}
export interface TablePanel {
  kind: 'table';
  title: string;
  columns: { key: string; label: string }[];
  rows: Record<string, string | number | null>[];
}
export interface StatsPanel {
  kind: 'stats';
  title: string;
  items: { label: string; value: string | number }[];
}
export type ResultPanel = HeatmapPanel | LinesPanel | TablePanel | StatsPanel;
export interface ResultView {
  title: string;
  panels: ResultPanel[];
}
