/**
 * The HTTP client of `jobplane list|get|submit|cancel|retry|events|watch|top`: the console's JSON
 * API (`/console/api`, a client key or the admin key) and `POST /v1/jobs` for submissions.
 */

/** The API answered a problem+json error, or could not be reached (`status` 0). */
export class ClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

export interface ClientJob {
  id: string;
  clientId: string;
  type: string;
  state: string;
  queue: string;
  attempts: number;
  maxAttempts: number;
  progress: { percent: number; message: string | null };
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { code: string; message: string; retryable: boolean } | null;
  idempotencyKey: string;
  parentId: string | null;
  createTime: string;
  startTime: string | null;
  finishTime: string | null;
}

export interface ClientDetail {
  job: ClientJob;
  children: { total: number; byState: Record<string, number>; percent: number } | null;
  hasView: boolean;
}

export interface ClientEvent {
  id: string;
  fromState: string | null;
  toState: string;
  attempt: number;
  reason: string;
  details: Record<string, unknown> | null;
  createTime: string;
}

export interface ClientQueue {
  queue: string;
  ready: number;
  scheduled: number;
  running: number;
  oldestWaitingSeconds: number | null;
  lastHour: { succeeded: number; failed: number; deadLettered: number; cancelled: number };
}

export interface ClientAlert {
  name: string;
  severity: string | null;
  summary: string | null;
  activeAt: string | null;
}

/** Per-request budget; streams have none (they end with the job). */
export const REQUEST_TIMEOUT_MS = 15_000;

export class ApiClient {
  private readonly base: string;
  constructor(
    url: string,
    private readonly key: string,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const cause =
        c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (err instanceof Error ? err.message : String(err));
      throw new ClientError(0, 'CLIENT.UNREACHABLE', `cannot reach ${this.base}: ${cause}`);
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const p = (json ?? {}) as { code?: string; detail?: string };
      throw new ClientError(res.status, p.code ?? `HTTP_${res.status}`, p.detail ?? `HTTP ${res.status}`);
    }
    return json as T;
  }

  list(filter: Record<string, string>): Promise<{ jobs: ClientJob[]; nextPageToken: string | null }> {
    const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== '')).toString();
    return this.request('GET', `/console/api/jobs${qs ? `?${qs}` : ''}`);
  }
  get(id: string): Promise<ClientDetail> {
    return this.request('GET', `/console/api/jobs/${encodeURIComponent(id)}`);
  }
  events(id: string): Promise<{ events: ClientEvent[] }> {
    return this.request('GET', `/console/api/jobs/${encodeURIComponent(id)}/events`);
  }
  cancel(id: string): Promise<{ job: ClientJob }> {
    return this.request('POST', `/console/api/jobs/${encodeURIComponent(id)}/cancel`);
  }
  retry(id: string): Promise<{ job: ClientJob }> {
    return this.request('POST', `/console/api/jobs/${encodeURIComponent(id)}/retry`);
  }
  submit(
    type: string,
    payload: unknown,
    idempotencyKey: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ job: { id: string; state: string } }> {
    return this.request(
      'POST',
      '/v1/jobs',
      { type, payload, ...extra },
      { 'idempotency-key': idempotencyKey },
    );
  }
  queues(): Promise<{ queues: ClientQueue[] }> {
    return this.request('GET', '/console/api/queues');
  }
  alerts(): Promise<{ configured: boolean; alerts: ClientAlert[] }> {
    return this.request('GET', '/console/api/alerts');
  }

  /**
   * Follows the job's SSE stream; `onDetail` per change. Resolves with the terminal state, or
   * reconnects when the connection drops before the job ended.
   */
  async follow(id: string, onDetail: (d: ClientDetail) => void): Promise<string> {
    for (;;) {
      let res: Response;
      try {
        res = await fetch(`${this.base}/console/api/jobs/${encodeURIComponent(id)}/stream`, {
          headers: { authorization: `Bearer ${this.key}` },
        });
      } catch (err) {
        throw new ClientError(
          0,
          'CLIENT.UNREACHABLE',
          `cannot reach ${this.base}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      if (!res.ok || !res.body) {
        const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
        throw new ClientError(res.status, p.code ?? `HTTP_${res.status}`, p.detail ?? `HTTP ${res.status}`);
      }
      const decoder = new TextDecoder();
      let buf = '';
      let end: string | null = null;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
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
            if (event === 'job') onDetail(JSON.parse(data.join('\n')) as ClientDetail);
            else if (event === 'end') end = (JSON.parse(data.join('\n')) as { state: string }).state;
            else if (event === 'error') {
              const p = JSON.parse(data.join('\n')) as { status: number; code: string; detail: string };
              throw new ClientError(p.status, p.code, p.detail);
            }
          }
        }
      } catch (err) {
        if (err instanceof ClientError) throw err;
        // dropped connection: reconnect below
      }
      if (end) return end;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
