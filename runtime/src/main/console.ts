import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultViewBuilderOf, type ResultViewBuilder } from '@jobplane/sdk';
import type { FastifyPluginAsync } from 'fastify';
import { PostgresConsoleRead } from '../adapters/postgres/console-queries.js';
import type { AppDeps } from '../adapters/http/app.js';
import {
  CONSOLE_API_PREFIX,
  consoleRoutes,
  type ConsoleAlert,
  type ConsoleAlerts,
  type ConsoleJobType,
} from '../adapters/http/routes/console.routes.js';
import { consoleStaticRoutes } from '../adapters/http/routes/console-static.routes.js';
import { createConsole } from '../application/console.use-case.js';
import { DomainError } from '../domain/errors.js';
import type { ResultViews } from '../ports/result-views.port.js';
import type { Catalog } from './catalog.js';
import type { Core } from './context.js';
import type { StreamSlots } from '../adapters/http/edge/job-stream.js';

/** The Grafana dashboards this repository ships (deploy/grafana/dashboards/<uid>.json). */
export const GRAFANA_DASHBOARDS = [
  { uid: 'jobplane-overview', title: 'Jobplane overview' },
  { uid: 'jobplane-queues', title: 'Jobplane queues' },
  { uid: 'jobplane-job-sla', title: 'Jobplane job SLA' },
] as const;

/** How long the console waits for Prometheus' `/api/v1/alerts`. */
export const PROMETHEUS_TIMEOUT_MS = 3000;

/** Result views of the catalog's job types, each module imported once, on first use. */
export function catalogResultViews(catalog: Catalog): ResultViews {
  const loaded = new Map<string, Promise<ResultViewBuilder>>();
  return {
    has: (type) => catalog.get(type)?.view !== undefined,
    async build(type, input) {
      const def = catalog.get(type);
      if (!def?.view)
        throw new DomainError('JOB.NO_RESULT_VIEW', `job type '${type}' declares no result view`);
      let builder = loaded.get(type);
      if (!builder) {
        const view = def.view;
        builder = view().then(resultViewBuilderOf);
        loaded.set(type, builder);
        builder.catch(() => loaded.delete(type));
      }
      return (await builder)(input);
    },
  };
}

/** Firing alerts from Prometheus' HTTP API; a dependency that does not answer is a 503. */
export function prometheusAlerts(
  baseUrl: string,
  timeoutMs = PROMETHEUS_TIMEOUT_MS,
): () => Promise<ConsoleAlert[]> {
  const url = new URL('api/v1/alerts', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  return async () => {
    let body: unknown;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
    } catch (err) {
      throw new DomainError(
        'SERVICE.UNAVAILABLE',
        `Prometheus (${url.origin}) did not answer /api/v1/alerts: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const alerts = (body as { data?: { alerts?: unknown[] } })?.data?.alerts;
    if (!Array.isArray(alerts))
      throw new DomainError('SERVICE.UNAVAILABLE', `Prometheus (${url.origin}) answered without data.alerts`);
    return alerts
      .map(
        (a) =>
          a as {
            labels?: Record<string, string>;
            annotations?: Record<string, string>;
            state?: string;
            activeAt?: string;
          },
      )
      .filter((a) => a.state === 'firing')
      .map((a) => ({
        name: a.labels?.alertname ?? 'unnamed',
        state: a.state ?? 'firing',
        severity: a.labels?.severity ?? null,
        summary: a.annotations?.summary ?? a.annotations?.description ?? null,
        activeAt: a.activeAt ?? null,
        labels: a.labels ?? {},
      }));
  };
}

/**
 * The console package's build output (`console/dist`, from `npm run build`), or null when it was
 * not built. Found next to the runtime package, as the workspace and the image lay them out
 * (`<root>/runtime/dist/main/console.js` → `<root>/console/dist`).
 */
export function consoleDistDir(): string | null {
  const dist = fileURLToPath(new URL('../../../console/dist', import.meta.url));
  return existsSync(join(dist, 'index.html')) ? dist : null;
}

export interface ConsolePluginOptions {
  /** Where the UI's build output is (default: the `@jobplane/console` package's dist/). */
  readonly distDir?: string | null;
  readonly pollMs?: number;
  /** The replica's stream slots, shared with `/v1/jobs/{id}/stream`. */
  readonly slots?: StreamSlots;
}

/** The console: its JSON API under /console/api and its UI under /console (docs/console.md). */
export function consolePlugin(
  core: Core,
  opts: ConsolePluginOptions = {},
): FastifyPluginAsync<{ deps: AppDeps }> {
  return async (app, { deps }) => {
    const consoleUseCases = createConsole({
      read: new PostgresConsoleRead(core.pool),
      store: core.store,
      controls: deps.controls,
      views: catalogResultViews(core.catalog),
      queueNames: core.catalog.queues().map((q) => q.name),
    });
    const jobTypes: ConsoleJobType[] = core.catalog.jobTypes.map((t) => ({
      type: t.type,
      queue: t.queue,
      mode: t.mode,
      submittable: t.submittable,
      hasView: t.view !== undefined,
      ...(t.description !== undefined ? { description: t.description } : {}),
      ...(t.example !== undefined ? { example: t.example } : {}),
    }));
    const grafana = core.config.GRAFANA_URL;
    const alerts: ConsoleAlerts = {
      firing: core.config.PROMETHEUS_URL ? prometheusAlerts(core.config.PROMETHEUS_URL) : null,
      grafana: grafana
        ? GRAFANA_DASHBOARDS.map((d) => ({
            title: d.title,
            url: new URL(`d/${d.uid}`, grafana.endsWith('/') ? grafana : `${grafana}/`).href,
          }))
        : [],
    };
    await app.register(
      consoleRoutes({
        console: consoleUseCases,
        jobTypes,
        alerts,
        ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
        ...(opts.slots ? { slots: opts.slots } : {}),
      }),
      { prefix: CONSOLE_API_PREFIX },
    );
    await app.register(
      consoleStaticRoutes({ root: opts.distDir === undefined ? consoleDistDir() : opts.distDir }),
    );
  };
}
