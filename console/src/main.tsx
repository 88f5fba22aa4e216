import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  followJob,
  JOB_STATES,
  session,
  type Alert,
  type Job,
  type JobDetail,
  type JobEvent,
  type QueueRow,
  type ResultView,
  type Session,
} from './api';
import { ResultViewPanels } from './views';
import './style.css';

// ---------------------------------------------------------------------------------------------
// Routing: everything after '#' (the API key is never in it).

interface Route {
  path: string[];
  params: URLSearchParams;
}

function parseHash(): Route {
  const raw = location.hash.replace(/^#\/?/, '');
  const [p = '', q = ''] = raw.split('?');
  return { path: p.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(q) };
}

function useRoute(): Route {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const go = (hash: string) => {
  location.hash = hash;
};

// ---------------------------------------------------------------------------------------------
// Small pieces

const fmtTime = (iso: string | null) =>
  iso ? new Date(iso).toLocaleString(undefined, { hour12: false }) : '—';

function fmtDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function StateBadge({ state }: { state: string }) {
  return <span class={`badge s-${state}`}>{state.replace('_', ' ')}</span>;
}

function Progress({ percent, label }: { percent: number; label: string }) {
  return (
    <div
      class="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(percent)}
      aria-label={label}
    >
      <div class="bar" style={{ width: `${Math.max(0, Math.min(100, percent))}%` }} />
      <span>{Math.round(percent)} %</span>
    </div>
  );
}

function ErrorNote({ error }: { error: ApiError | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      <strong>{error.code}</strong>: {error.message}
    </p>
  );
}

function usePoll(fn: () => Promise<void>, ms: number, deps: unknown[]) {
  useEffect(() => {
    let stop = false;
    let timer: number | undefined;
    const loop = async () => {
      if (!document.hidden) await fn().catch(() => undefined);
      if (!stop) timer = window.setTimeout(loop, ms);
    };
    timer = window.setTimeout(loop, ms);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, deps);
}

// ---------------------------------------------------------------------------------------------
// Sign-in

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    session.signIn(key.trim());
    try {
      onSignedIn(await api.session());
    } catch (err) {
      session.signOut();
      setError(err instanceof ApiError ? err : new ApiError(0, 'ERROR', String(err)));
    }
  };
  return (
    <main class="signin">
      <h1>Jobplane console</h1>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <p class="hint">
          A client API key shows that client's jobs; the admin key shows every client's. The key is kept in
          this tab's session storage only and sent as a Bearer header.
        </p>
        <button type="submit">Sign in</button>
      </form>
      <ErrorNote error={error} />
    </main>
  );
}

// ---------------------------------------------------------------------------------------------
// Jobs list

const FILTERS = ['state', 'type', 'queue', 'parent', 'client', 'from', 'to', 'q'] as const;

/** datetime-local value ↔ RFC 3339 (the browser's local time zone). */
const toLocalInput = (iso: string) => {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? ''
    : new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (v: string) => (v ? new Date(v).toISOString() : '');

function JobsTable({
  jobs,
  selectable,
  selected,
  onToggle,
  showClient,
}: {
  jobs: Job[];
  selectable?: boolean;
  selected?: Set<string>;
  onToggle?: (id: string) => void;
  showClient: boolean;
}) {
  return (
    <table class="jobs" data-testid="jobs-table">
      <thead>
        <tr>
          {selectable ? (
            <th scope="col">
              <span class="sr-only">select</span>
            </th>
          ) : null}
          <th scope="col">job</th>
          <th scope="col">type</th>
          <th scope="col">state</th>
          <th scope="col">queue</th>
          {showClient ? <th scope="col">client</th> : null}
          <th scope="col">attempts</th>
          <th scope="col">progress</th>
          <th scope="col">created</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id} data-job-id={j.id}>
            {selectable ? (
              <td>
                <input
                  type="checkbox"
                  aria-label={`select job ${j.id}`}
                  checked={selected?.has(j.id)}
                  onChange={() => onToggle?.(j.id)}
                />
              </td>
            ) : null}
            <td>
              <a href={`#/jobs/${j.id}`} class="mono">
                {j.id.slice(0, 8)}
              </a>
            </td>
            <td>{j.type}</td>
            <td>
              <StateBadge state={j.state} />
            </td>
            <td>{j.queue}</td>
            {showClient ? <td>{j.clientId}</td> : null}
            <td>
              {j.attempts}/{j.maxAttempts}
            </td>
            <td>{j.state === 'running' ? `${j.progress.percent} %` : ''}</td>
            <td>{fmtTime(j.createTime)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function JobsPage({ route, me }: { route: Route; me: Session }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, route.params.get(f) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const [draft, setDraft] = useState(filters);
  const [pages, setPages] = useState<string[]>(['']); // tokens of the pages visited
  const [data, setData] = useState<{ jobs: Job[]; nextPageToken: string | null } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [live, setLive] = useState(true);
  const key = route.params.toString();
  const token = pages[pages.length - 1] ?? '';

  useEffect(() => {
    setDraft(filters);
    setPages(['']);
  }, [key]);

  const load = useCallback(async () => {
    try {
      setData(await api.jobs({ ...filters, pageToken: token }));
      setError(null);
    } catch (err) {
      setError(err as ApiError);
    }
  }, [key, token]);
  useEffect(() => void load(), [load]);
  // Live updates: the first page is re-read every 2 s (a later page stays put while you read it).
  usePoll(async () => (live && token === '' ? load() : undefined), 2000, [load, live, token]);

  const apply = (e: Event) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const f of FILTERS) if (draft[f]) p.set(f, draft[f]);
    go(`#/jobs?${p.toString()}`);
  };
  const set = (f: (typeof FILTERS)[number]) => (e: Event) =>
    setDraft({ ...draft, [f]: (e.target as HTMLInputElement).value });
  const types = [...new Set(me.jobTypes.map((t) => t.type))];
  const queues = [...new Set(me.jobTypes.map((t) => t.queue))];

  return (
    <section aria-labelledby="jobs-h">
      <h1 id="jobs-h">Jobs</h1>
      <form class="filters" onSubmit={apply} aria-label="job filters">
        <label>
          state
          <select value={draft.state} onChange={set('state')} name="state">
            <option value="">any</option>
            {JOB_STATES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          type
          <select value={draft.type} onChange={set('type')} name="type">
            <option value="">any</option>
            {types.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          queue
          <select value={draft.queue} onChange={set('queue')} name="queue">
            <option value="">any</option>
            {queues.map((q) => (
              <option value={q}>{q}</option>
            ))}
          </select>
        </label>
        <label>
          parent job id
          <input value={draft.parent} onInput={set('parent')} name="parent" size={12} />
        </label>
        {me.scope === 'admin' ? (
          <label>
            client
            <input value={draft.client} onInput={set('client')} name="client" size={10} />
          </label>
        ) : null}
        <label>
          created from
          <input
            type="datetime-local"
            name="from"
            value={toLocalInput(draft.from)}
            onInput={(e) =>
              setDraft({ ...draft, from: fromLocalInput((e.target as HTMLInputElement).value) })
            }
          />
        </label>
        <label>
          created before
          <input
            type="datetime-local"
            name="to"
            value={toLocalInput(draft.to)}
            onInput={(e) => setDraft({ ...draft, to: fromLocalInput((e.target as HTMLInputElement).value) })}
          />
        </label>
        <label>
          id or idempotency key
          <input value={draft.q} onInput={set('q')} name="q" size={14} />
        </label>
        <button type="submit">Apply</button>
        <button type="button" class="secondary" onClick={() => go('#/jobs')}>
          Clear
        </button>
      </form>
      <p class="toolbar">
        <label class="inline">
          <input type="checkbox" checked={live} onChange={() => setLive(!live)} /> live updates
        </label>
        <a href="#/submit" class="button">
          Submit a job
        </a>
      </p>
      <ErrorNote error={error} />
      {data ? (
        <>
          {data.jobs.length === 0 ? (
            <p>No jobs match.</p>
          ) : (
            <JobsTable jobs={data.jobs} showClient={me.scope === 'admin'} />
          )}
          <nav class="pager" aria-label="pages">
            <button type="button" disabled={pages.length < 2} onClick={() => setPages(pages.slice(0, -1))}>
              Newer
            </button>
            <button
              type="button"
              disabled={!data.nextPageToken}
              onClick={() => data.nextPageToken && setPages([...pages, data.nextPageToken])}
            >
              Older
            </button>
          </nav>
        </>
      ) : (
        <p>Loading…</p>
      )}
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Job detail

function Timeline({ events }: { events: JobEvent[] }) {
  return (
    <ol class="timeline" data-testid="timeline">
      {events.map((e, i) => {
        const prev = events[i - 1];
        const since = prev ? new Date(e.createTime).getTime() - new Date(prev.createTime).getTime() : null;
        return (
          <li>
            <span class="when">{fmtTime(e.createTime)}</span>
            {since !== null ? <span class="since">+{fmtDuration(since)}</span> : null}{' '}
            {e.fromState ? <StateBadge state={e.fromState} /> : null}
            {e.fromState ? ' → ' : ''}
            <StateBadge state={e.toState} /> <span class="reason">{e.reason}</span>
            {e.attempt > 0 ? <span class="attempt"> (attempt {e.attempt})</span> : null}
            {e.details ? (
              <details>
                <summary>details</summary>
                <pre>{JSON.stringify(e.details, null, 2)}</pre>
              </details>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

function JsonBlock({ title, value, open }: { title: string; value: unknown; open?: boolean }) {
  return (
    <details open={open}>
      <summary>{title}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

function JobPage({ id }: { id: string }) {
  const [detail, setDetail] = useState<JobDetail | null>(null);
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [children, setChildren] = useState<Job[]>([]);
  const [view, setView] = useState<ResultView | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [streaming, setStreaming] = useState(false);
  const [generation, setGeneration] = useState(0); // bumps after retry: follow again

  const refresh = useCallback(async () => {
    const [d, ev] = await Promise.all([api.job(id), api.events(id)]);
    setDetail(d);
    setEvents(ev.events);
    if (d.children) setChildren((await api.children(id)).jobs);
    if (d.hasView && d.job.state === 'succeeded') setView(await api.view(id));
    else setView(null);
  }, [id]);

  useEffect(() => {
    setError(null);
    refresh().catch((e: unknown) => setError(e as ApiError));
  }, [refresh, generation]);

  // Live: the stream pushes every change; the timeline and children are re-read on each one.
  const lastFetch = useRef(0);
  useEffect(() => {
    setStreaming(true);
    const stop = followJob(
      id,
      (d) => {
        setDetail(d);
        if (Date.now() - lastFetch.current > 700) {
          lastFetch.current = Date.now();
          void api
            .events(id)
            .then((r) => setEvents(r.events))
            .catch(() => undefined);
          if (d.children)
            void api
              .children(id)
              .then((r) => setChildren(r.jobs))
              .catch(() => undefined);
        }
      },
      () => {
        setStreaming(false);
        void refresh().catch((e: unknown) => setError(e as ApiError));
      },
      (e) => {
        setStreaming(false);
        setError(e);
      },
    );
    return () => {
      stop();
      setStreaming(false);
    };
  }, [id, generation, refresh]);

  const act = async (what: 'cancel' | 'retry') => {
    setBusy(true);
    try {
      await (what === 'cancel' ? api.cancel(id) : api.retry(id));
      setGeneration((g) => g + 1);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };

  if (!detail) return error ? <ErrorNote error={error} /> : <p>Loading…</p>;
  const j = detail.job;
  const ch = detail.children;
  const errFirst = j.error?.message.split('\n')[0] ?? '';
  const errRest = j.error?.message.split('\n').slice(1).join('\n') ?? '';
  const duration =
    j.startTime && (j.finishTime || j.state === 'running')
      ? fmtDuration(
          (j.finishTime ? new Date(j.finishTime).getTime() : Date.now()) - new Date(j.startTime).getTime(),
        )
      : '—';
  return (
    <section aria-labelledby="job-h">
      <h1 id="job-h">
        {j.type} <span class="mono small">{j.id}</span>
      </h1>
      <p class="toolbar">
        <span data-testid="job-state">
          <StateBadge state={j.state} />
        </span>
        {streaming ? <span class="live">● live</span> : null}
        {j.state === 'queued' || j.state === 'running' ? (
          <button type="button" disabled={busy} onClick={() => void act('cancel')}>
            Cancel
          </button>
        ) : null}
        {j.state === 'failed' || j.state === 'dead_lettered' || j.state === 'cancelled' ? (
          <button type="button" disabled={busy} onClick={() => void act('retry')}>
            Retry
          </button>
        ) : null}
      </p>
      <ErrorNote error={error} />
      {j.state === 'running' && !ch ? <Progress percent={j.progress.percent} label="job progress" /> : null}
      {j.state === 'running' && j.progress.message ? <p class="hint">{j.progress.message}</p> : null}
      <dl class="facts">
        <div>
          <dt>queue</dt>
          <dd>
            {j.queue} ({j.mode})
          </dd>
        </div>
        <div>
          <dt>client</dt>
          <dd>{j.clientId}</dd>
        </div>
        <div>
          <dt>attempts</dt>
          <dd data-testid="attempts">
            {j.attempts} of {j.maxAttempts}
          </dd>
        </div>
        <div>
          <dt>idempotency key</dt>
          <dd class="mono">{j.idempotencyKey}</dd>
        </div>
        <div>
          <dt>created</dt>
          <dd>{fmtTime(j.createTime)}</dd>
        </div>
        <div>
          <dt>started</dt>
          <dd>{fmtTime(j.startTime)}</dd>
        </div>
        <div>
          <dt>finished</dt>
          <dd>{fmtTime(j.finishTime)}</dd>
        </div>
        <div>
          <dt>run time</dt>
          <dd>{duration}</dd>
        </div>
        {j.parentId ? (
          <div>
            <dt>parent</dt>
            <dd>
              <a href={`#/jobs/${j.parentId}`} class="mono">
                {j.parentId.slice(0, 8)}
              </a>{' '}
              (child #{j.childIndex})
            </dd>
          </div>
        ) : null}
      </dl>
      {j.error ? (
        <section class="failure" aria-label="error">
          <h2>Error</h2>
          <p>
            <strong class="mono">{j.error.code}</strong>: {errFirst}{' '}
            <span class="hint">
              {j.state === 'dead_lettered'
                ? '(dead-lettered: no attempt left; Retry re-queues it)'
                : j.error.retryable
                  ? '(retryable)'
                  : '(not retryable)'}
            </span>
          </p>
          {errRest ? (
            <details>
              <summary>stack</summary>
              <pre>{errRest}</pre>
            </details>
          ) : null}
        </section>
      ) : null}
      {ch ? (
        <section aria-labelledby="children-h">
          <h2 id="children-h">Children ({ch.total})</h2>
          <Progress percent={ch.percent} label="children progress" />
          <p data-testid="children-states">
            {Object.entries(ch.byState).map(([s, n]) => (
              <span class="count">
                <StateBadge state={s} /> {n}
              </span>
            ))}
          </p>
          <p>
            <a href={`#/jobs?parent=${j.id}`}>All children in the job list</a>
          </p>
          <details>
            <summary>first {children.length} children</summary>
            <JobsTable jobs={children} showClient={false} />
          </details>
        </section>
      ) : null}
      {view ? <ResultViewPanels view={view} /> : null}
      <h2>Timeline</h2>
      <Timeline events={events} />
      <h2>Data</h2>
      <JsonBlock title="payload" value={j.payload} />
      {j.result ? <JsonBlock title="result" value={j.result} open={!view} /> : null}
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Dead letters

function DeadLettersPage({ me }: { me: Session }) {
  const [jobs, setJobs] = useState<Job[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [error, setError] = useState<ApiError | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const load = useCallback(async () => {
    try {
      const r = await api.jobs({ state: 'dead_lettered', pageSize: '100' });
      setJobs(r.jobs);
      setNext(r.nextPageToken);
      setError(null);
    } catch (err) {
      setError(err as ApiError);
    }
  }, []);
  useEffect(() => void load(), [load]);
  const toggle = (id: string) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  const redrive = async () => {
    dialog.current?.close();
    try {
      const r = await api.redrive([...selected]);
      setOutcome(
        `Redriven: ${r.redriven.length}.` +
          (r.refused.length
            ? ` Refused: ${r.refused.map((x) => `${x.id.slice(0, 8)} (${x.detail})`).join('; ')}`
            : ''),
      );
      setSelected(new Set());
      await load();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="dl-h">
      <h1 id="dl-h">Dead letters</h1>
      <p class="toolbar">
        <button
          type="button"
          onClick={() => setSelected(new Set(jobs.map((j) => j.id)))}
          disabled={jobs.length === 0}
        >
          Select all shown
        </button>
        <button type="button" disabled={selected.size === 0} onClick={() => dialog.current?.showModal()}>
          Redrive {selected.size} selected
        </button>
      </p>
      <ErrorNote error={error} />
      {outcome ? <p role="status">{outcome}</p> : null}
      {jobs.length === 0 ? (
        <p>No dead-lettered jobs.</p>
      ) : (
        <JobsTable
          jobs={jobs}
          selectable
          selected={selected}
          onToggle={toggle}
          showClient={me.scope === 'admin'}
        />
      )}
      {next ? (
        <p class="hint">
          Showing the newest 100; <a href="#/jobs?state=dead_lettered">page through all of them</a>.
        </p>
      ) : null}
      <dialog ref={dialog} aria-labelledby="confirm-h">
        <h2 id="confirm-h">Redrive {selected.size} dead-lettered jobs?</h2>
        <p>Each one goes back to the queue with a fresh attempt budget. Its history is kept.</p>
        <form method="dialog" class="toolbar">
          <button type="button" onClick={() => void redrive()}>
            Redrive
          </button>
          <button type="submit" class="secondary">
            Cancel
          </button>
        </form>
      </dialog>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Queues and alerts

function QueuesPage() {
  const [rows, setRows] = useState<QueueRow[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(async () => {
    try {
      setRows((await api.queues()).queues);
      setError(null);
    } catch (err) {
      setError(err as ApiError);
    }
  }, []);
  useEffect(() => void load(), [load]);
  usePoll(load, 5000, [load]);
  return (
    <section aria-labelledby="q-h">
      <h1 id="q-h">Queues</h1>
      <ErrorNote error={error} />
      {rows ? (
        <table data-testid="queues-table">
          <thead>
            <tr>
              <th scope="col">queue</th>
              <th scope="col">ready</th>
              <th scope="col">scheduled</th>
              <th scope="col">running</th>
              <th scope="col">oldest waiting</th>
              <th scope="col">succeeded (1 h)</th>
              <th scope="col">failed attempts (1 h)</th>
              <th scope="col">dead-lettered (1 h)</th>
              <th scope="col">failure rate (1 h)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const ended = r.lastHour.succeeded + r.lastHour.failed;
              return (
                <tr data-queue={r.queue}>
                  <th scope="row">
                    <a href={`#/jobs?queue=${encodeURIComponent(r.queue)}`}>{r.queue}</a>
                  </th>
                  <td>{r.ready}</td>
                  <td>{r.scheduled}</td>
                  <td>{r.running}</td>
                  <td>
                    {r.oldestWaitingSeconds === null ? '—' : fmtDuration(r.oldestWaitingSeconds * 1000)}
                  </td>
                  <td>{r.lastHour.succeeded}</td>
                  <td>{r.lastHour.failed}</td>
                  <td>{r.lastHour.deadLettered}</td>
                  <td>{ended === 0 ? '—' : `${((r.lastHour.failed / ended) * 100).toFixed(1)} %`}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p>Loading…</p>
      )}
      <p class="hint">
        Failure rate: failed attempts / (succeeded + failed attempts) that ended in the last hour.
      </p>
    </section>
  );
}

function AlertsPage() {
  const [data, setData] = useState<{
    configured: boolean;
    alerts: Alert[];
    grafana: { title: string; url: string }[];
  } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(async () => {
    try {
      setData(await api.alerts());
      setError(null);
    } catch (err) {
      setError(err as ApiError);
    }
  }, []);
  useEffect(() => void load(), [load]);
  usePoll(load, 15000, [load]);
  return (
    <section aria-labelledby="a-h">
      <h1 id="a-h">Alerts</h1>
      <ErrorNote error={error} />
      {data && !data.configured ? (
        <p>Prometheus is not configured: set PROMETHEUS_URL on the API to see firing alerts here.</p>
      ) : null}
      {data?.configured && data.alerts.length === 0 ? <p>No alert is firing.</p> : null}
      {data?.alerts.length ? (
        <table data-testid="alerts-table">
          <thead>
            <tr>
              <th scope="col">alert</th>
              <th scope="col">severity</th>
              <th scope="col">since</th>
              <th scope="col">summary</th>
            </tr>
          </thead>
          <tbody>
            {data.alerts.map((a) => (
              <tr>
                <td>{a.name}</td>
                <td>{a.severity ?? ''}</td>
                <td>{fmtTime(a.activeAt)}</td>
                <td>{a.summary ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <h2>Dashboards</h2>
      {data?.grafana.length ? (
        <ul>
          {data.grafana.map((g) => (
            <li>
              <a href={g.url} rel="noopener noreferrer" target="_blank">
                {g.title}
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p>Set GRAFANA_URL on the API to link the Grafana dashboards.</p>
      )}
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Submit

function SubmitPage({ me }: { me: Session }) {
  const types = me.jobTypes.filter((t) => t.submittable);
  const [type, setType] = useState(types[0]?.type ?? '');
  const example = (t: string) => JSON.stringify(types.find((x) => x.type === t)?.example ?? {}, null, 2);
  const [payload, setPayload] = useState(example(type));
  const [key, setKey] = useState<string>(() => crypto.randomUUID());
  const [error, setError] = useState<ApiError | null>(null);
  if (me.scope === 'admin')
    return (
      <section>
        <h1>Submit a job</h1>
        <p>Jobs belong to a client: sign in with a client API key to submit one.</p>
      </section>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch (err) {
      setError(new ApiError(0, 'PAYLOAD', `the payload is not JSON: ${String(err)}`));
      return;
    }
    try {
      const r = await api.submit(type, body, key);
      setKey(crypto.randomUUID());
      go(`#/jobs/${r.job.id}`);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <section aria-labelledby="s-h">
      <h1 id="s-h">Submit a job</h1>
      <form class="submit" onSubmit={submit}>
        <label for="submit-type">job type</label>
        <select
          id="submit-type"
          value={type}
          onChange={(e) => {
            const t = (e.target as HTMLSelectElement).value;
            setType(t);
            setPayload(example(t));
          }}
        >
          {types.map((t) => (
            <option value={t.type}>{t.type}</option>
          ))}
        </select>
        <p class="hint">{types.find((t) => t.type === type)?.description}</p>
        <label for="submit-payload">payload (JSON)</label>
        <textarea
          id="submit-payload"
          rows={10}
          value={payload}
          onInput={(e) => setPayload((e.target as HTMLTextAreaElement).value)}
        />
        <label for="submit-key">idempotency key</label>
        <input id="submit-key" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        <button type="submit">Submit</button>
      </form>
      <ErrorNote error={error} />
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Shell

function App() {
  const route = useRoute();
  const [me, setMe] = useState<Session | null>(null);
  const [checking, setChecking] = useState(Boolean(session.key()));
  useEffect(() => {
    if (!session.key()) return;
    api
      .session()
      .then(setMe)
      .catch(() => session.signOut())
      .finally(() => setChecking(false));
  }, []);
  if (checking) return <p>Loading…</p>;
  if (!me) return <SignIn onSignedIn={setMe} />;
  const [page = 'jobs', id] = route.path;
  const nav = [
    ['jobs', 'Jobs'],
    ['dead-letters', 'Dead letters'],
    ['queues', 'Queues'],
    ['alerts', 'Alerts'],
  ] as const;
  return (
    <>
      <header class="top">
        <span class="brand">Jobplane</span>
        <nav aria-label="console">
          {nav.map(([p, label]) => (
            <a href={`#/${p}`} aria-current={page === p ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" data-testid="who">
          {me.scope === 'admin' ? 'admin (every client)' : `client ${me.clientId}`}
        </span>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            session.signOut();
            setMe(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        {page === 'jobs' && id ? <JobPage id={id} key={id} /> : null}
        {page === 'jobs' && !id ? <JobsPage route={route} me={me} /> : null}
        {page === 'dead-letters' ? <DeadLettersPage me={me} /> : null}
        {page === 'queues' ? <QueuesPage /> : null}
        {page === 'alerts' ? <AlertsPage /> : null}
        {page === 'submit' ? <SubmitPage me={me} /> : null}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
