/**
 * Contract with the runtime (`@jobplane/sdk/contract`, read dynamically so added keys are
 * picked up): containers of runtime pods run a real `jobplane` subcommand, set only env vars the
 * config schema accepts, set every env var the subcommand requires, and literal values parse
 * under the schema; with the catalog, workers consume its pooled queues and `run-one` its isolated
 * ones. KEDA triggers use real scaler types with known metadata keys, and Jobplane
 * scalers count the real backlog.
 */
import {
  BACKLOG_STATES,
  JOBPLANE_COMMANDS,
  METRIC_NAMES,
  REQUIRED_ENV,
  configSchema,
} from '@jobplane/sdk/contract';
import type { Catalog } from '@jobplane/sdk';
import { RUNTIME_POD_LABEL } from '../lib/pod.js';
import { API_PORT, METRICS_PORT, knownRuntimeEnv } from '../lib/runtime.js';
import type { Finding, Manifest } from './types.js';
import { allContainers, arr, obj, podTemplates, ref } from './types.js';

/**
 * KEDA scaler types of KEDA 2.21 (the version the stacks install, stacks/src/addon-charts.ts): the
 * `buildScaler` switch of pkg/scaling/scalers_builder.go, without the test-only `external-mock`.
 * Against the 2.17 list this replaced: `stan` is gone; clickhouse, elastic-forecast, forgejo-runner,
 * gcp-spanner, kubernetes-resource, nsq, opensearch, solace-direct-messaging, solarwinds,
 * splunk-observability and sumologic are new; liiklus is deprecated in 2.21 but still built.
 */
export const KEDA_VERSION = '2.21';
export const KEDA_SCALER_TYPES: ReadonlySet<string> = new Set([
  'activemq',
  'apache-kafka',
  'arangodb',
  'artemis-queue',
  'aws-cloudwatch',
  'aws-dynamodb',
  'aws-dynamodb-streams',
  'aws-kinesis-stream',
  'aws-sqs-queue',
  'azure-app-insights',
  'azure-blob',
  'azure-data-explorer',
  'azure-eventhub',
  'azure-log-analytics',
  'azure-monitor',
  'azure-pipelines',
  'azure-queue',
  'azure-servicebus',
  'beanstalkd',
  'cassandra',
  'clickhouse',
  'couchdb',
  'cpu',
  'cron',
  'datadog',
  'dynatrace',
  'elastic-forecast',
  'elasticsearch',
  'etcd',
  'external',
  'external-push',
  'forgejo-runner',
  'gcp-cloudtasks',
  'gcp-pubsub',
  'gcp-spanner',
  'gcp-stackdriver',
  'gcp-storage',
  'github-runner',
  'graphite',
  'huawei-cloudeye',
  'ibmmq',
  'influxdb',
  'kafka',
  'kubernetes-resource',
  'kubernetes-workload',
  'liiklus',
  'loki',
  'memory',
  'metrics-api',
  'mongodb',
  'mssql',
  'mysql',
  'nats-jetstream',
  'new-relic',
  'nsq',
  'opensearch',
  'openstack-metric',
  'openstack-swift',
  'postgresql',
  'predictkube',
  'prometheus',
  'pulsar',
  'rabbitmq',
  'redis',
  'redis-cluster',
  'redis-cluster-streams',
  'redis-sentinel',
  'redis-sentinel-streams',
  'redis-streams',
  'selenium-grid',
  'solace-direct-messaging',
  'solace-event-queue',
  'solarwinds',
  'solr',
  'splunk',
  'splunk-observability',
  'sumologic',
  'temporal',
]);

/** Metadata keys of the KEDA 2.21 `prometheus` scaler (its `keda:"name=…"` struct tags, plus `authModes`). */
const PROMETHEUS_SCALER_KEYS = new Set([
  'serverAddress',
  'query',
  'queryParameters',
  'threshold',
  'activationThreshold',
  'namespace',
  'customHeaders',
  'ignoreNullValues',
  'unsafeSsl',
  'timeout',
  'authModes',
  'awsRegion',
  'identityOwner',
]);

export function checkContract(objects: readonly Manifest[], catalog?: Catalog): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, o: Manifest, message: string) =>
    findings.push({ rule, object: ref(o), message });
  // The config schema's keys, the OpenTelemetry SDK's OTEL_* and NATS_URL (lib/runtime.ts).
  const known = knownRuntimeEnv();
  const commands = new Set<string>(JOBPLANE_COMMANDS);
  const modeOf = (q: string | undefined) => (q === undefined ? undefined : catalog?.queue(q)?.mode);
  const shape = configSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;

  for (const o of objects) {
    for (const t of podTemplates(o)) {
      if (t.labels[RUNTIME_POD_LABEL] !== 'true') continue;
      for (const c of allContainers(t.spec)) {
        const at = `${t.path} container '${String(c['name'])}'`;
        if (c['command'] !== undefined)
          add('C-command', o, `${at}: must not override the image entrypoint (jobplane)`);
        const args = (c['args'] as unknown[] | undefined) ?? [];
        const cmd = String(args[0]);
        if (args.length !== 1 || !commands.has(cmd)) {
          add(
            'C-command',
            o,
            `${at}: args ${JSON.stringify(args)} must be one jobplane subcommand (${JOBPLANE_COMMANDS.join(', ')})`,
          );
          continue;
        }
        const env = arr(c['env']);
        const names = new Set(env.map((e) => String(e['name'])));
        for (const e of env) {
          const name = String(e['name']);
          if (!known.has(name)) {
            add('C-env', o, `${at}: env ${name} is not a runtime config key`);
            continue;
          }
          if (typeof e['value'] === 'string' && shape[name] && !shape[name].safeParse(e['value']).success) {
            add(
              'C-env',
              o,
              `${at}: env ${name}=${JSON.stringify(e['value'])} is rejected by the runtime config schema`,
            );
          }
        }
        for (const req of REQUIRED_ENV[cmd as keyof typeof REQUIRED_ENV]) {
          if (!names.has(req)) add('C-env', o, `${at}: 'jobplane ${cmd}' requires env ${req}`);
        }
        const value = (n: string) => env.find((e) => e['name'] === n)?.['value'] as string | undefined;
        if (cmd === 'worker' && catalog) {
          for (const q of (value('WORKER_QUEUES') ?? '').split(',').filter(Boolean)) {
            if (modeOf(q) !== 'pooled')
              add(
                'C-queue',
                o,
                `${at}: WORKER_QUEUES '${q}' is not a pooled queue of catalog '${catalog.name}'`,
              );
          }
        }
        if (cmd === 'run-one' && catalog) {
          const q = value('RUN_ONE_QUEUE');
          if (modeOf(q) !== 'isolated')
            add(
              'C-queue',
              o,
              `${at}: RUN_ONE_QUEUE '${String(q)}' is not an isolated queue of catalog '${catalog.name}'`,
            );
        }
        if (['api', 'worker', 'relay'].includes(cmd)) {
          const expected =
            cmd === 'api' ? Number(value('PORT') ?? API_PORT) : Number(value('METRICS_PORT') ?? METRICS_PORT);
          const declared = arr(c['ports']).map((p) => p['containerPort']);
          if (!declared.includes(expected)) {
            add(
              'C-port',
              o,
              `${at}: container ports ${JSON.stringify(declared)} must include the port the runtime listens on (${expected})`,
            );
          }
        }
      }
    }
    if (o.kind === 'ScaledObject' || o.kind === 'ScaledJob') {
      for (const trig of arr(obj(o['spec'])['triggers'])) {
        const type = String(trig['type']);
        if (!KEDA_SCALER_TYPES.has(type)) {
          add('KEDA', o, `unknown KEDA scaler type '${type}'`);
          continue;
        }
        if (type !== 'prometheus') continue;
        const md = obj(trig['metadata']);
        for (const k of Object.keys(md))
          if (!PROMETHEUS_SCALER_KEYS.has(k)) add('KEDA', o, `unknown prometheus scaler metadata '${k}'`);
        for (const k of ['serverAddress', 'query', 'threshold'])
          if (typeof md[k] !== 'string') add('KEDA', o, `prometheus scaler needs metadata.${k}`);
        const query = String(md['query'] ?? '');
        if (query.includes(METRIC_NAMES.queueJobs) && !BACKLOG_STATES.every((s) => query.includes(s))) {
          add('KEDA', o, `backlog query must count ${BACKLOG_STATES.join(' + ')} (got ${query})`);
        }
      }
    }
  }
  return findings;
}
