/**
 * What the constructs know about the `jobplane` image, all derived from `@jobplane/sdk/contract`
 * (the runtime contract, no dependency on the runtime itself): subcommands, env-var names, ports, the drain contract.
 */
import {
  CONFIG_ENV_VARS,
  JOBPLANE_COMMANDS,
  REQUIRED_ENV,
  configSchema,
  type JobplaneCommand,
} from '@jobplane/sdk/contract';
import { PropValidationError } from './errors.js';
import { literalEnv, secretEnv, type EnvVar, type SecretKeyRef } from './pod.js';

/** API listen port (`PORT` default of the runtime schema). */
export const API_PORT: number = configSchema.shape.PORT.parse(undefined);
/** Worker/relay metrics and health port (`METRICS_PORT` default of the runtime schema). */
export const METRICS_PORT: number = configSchema.shape.METRICS_PORT.parse(undefined);

/** References to the Secrets the platform reads. They are created out of band, never written to Git. */
export interface RuntimeSecrets {
  /** `DATABASE_URL`. @default jobplane-postgres / DATABASE_URL */
  readonly database: SecretKeyRef;
  /** `REDIS_URL`. @default jobplane-redis / REDIS_URL */
  readonly redis: SecretKeyRef;
  /** `JOBPLANE_API_KEYS` (api only). @default jobplane-api-keys / JOBPLANE_API_KEYS */
  readonly apiKeys: SecretKeyRef;
  /** `JOBPLANE_ADMIN_KEY` (api only, optional). @default jobplane-api-keys / JOBPLANE_ADMIN_KEY (optional) */
  readonly adminKey: SecretKeyRef;
}

export const DEFAULT_RUNTIME_SECRETS: RuntimeSecrets = {
  database: { name: 'jobplane-postgres', key: 'DATABASE_URL' },
  redis: { name: 'jobplane-redis', key: 'REDIS_URL' },
  apiKeys: { name: 'jobplane-api-keys', key: 'JOBPLANE_API_KEYS' },
  adminKey: { name: 'jobplane-api-keys', key: 'JOBPLANE_ADMIN_KEY', optional: true },
};

/** Checks that `command` is a real `jobplane` subcommand. */
export function checkCommand(prop: string, command: string): JobplaneCommand {
  if (!(JOBPLANE_COMMANDS as readonly string[]).includes(command)) {
    throw new PropValidationError(
      `'${prop}' ('${command}') must be a jobplane subcommand (${JOBPLANE_COMMANDS.join(', ')})`,
    );
  }
  return command as JobplaneCommand;
}

/**
 * Builds a container's env: the secrets and literals the construct sets, plus user `extraEnv`
 * (keys must be runtime config keys, and may not override what the construct derives).
 */
export function runtimeEnv(
  command: JobplaneCommand,
  secrets: readonly [string, SecretKeyRef][],
  literals: Readonly<Record<string, string | number | boolean>>,
  extraEnv: Readonly<Record<string, string>> | undefined,
): EnvVar[] {
  const known = new Set<string>(CONFIG_ENV_VARS);
  const env: EnvVar[] = [];
  for (const [name, ref] of secrets) env.push(secretEnv(name, ref));
  for (const [name, value] of Object.entries(literals)) env.push(literalEnv(name, value));
  const taken = new Set(env.map((e) => e.name));
  for (const [name, value] of Object.entries(extraEnv ?? {})) {
    if (!known.has(name)) {
      throw new PropValidationError(
        `'extraEnv.${name}' is not a runtime config key (known: ${[...known].sort().join(', ')})`,
      );
    }
    if (taken.has(name))
      throw new PropValidationError(`'extraEnv.${name}' is set by the construct and cannot be overridden`);
    if (/KEY|SECRET|PASSWORD|TOKEN|WEBHOOK|_URL$/.test(name)) {
      throw new PropValidationError(
        `'extraEnv.${name}' carries a credential: reference a Secret instead of a literal value`,
      );
    }
    env.push(literalEnv(name, value));
  }
  for (const name of REQUIRED_ENV[command]) {
    if (!env.some((e) => e.name === name))
      throw new PropValidationError(`'jobplane ${command}' requires env ${name}`);
  }
  return env;
}

/**
 * Variables the image reads outside the jobplane config schema: the OpenTelemetry SDK's standard
 * ones (the config only refuses unknown `JOBPLANE_*` names). The verifier (C-env) and the compose
 * test accept them next to `CONFIG_ENV_VARS`.
 * @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 */
export const OTEL_ENV_VARS = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME'] as const;

/**
 * The broker URL of the event spine (docs/events.md), a key of the runtime config schema. The
 * verifier accepts it by name even with a schema that does not declare it (an older
 * `@jobplane/sdk`); where it is declared, its value is parsed by the schema like any other.
 */
export const NATS_URL_ENV = 'NATS_URL';

/** Env names a runtime container may carry: the config schema, OTEL_*, NATS_URL. */
export function knownRuntimeEnv(): Set<string> {
  return new Set<string>([...CONFIG_ENV_VARS, ...OTEL_ENV_VARS, NATS_URL_ENV]);
}

/** What the platform wires into its runtime components besides the data stores. */
export interface RuntimeIntegrations {
  /** OTLP/HTTP endpoint of the trace collector (`OTEL_EXPORTER_OTLP_ENDPOINT`). @default no export */
  readonly otlpEndpoint?: string;
  /** `NATS_URL` of the event spine. @default none */
  readonly natsUrl?: string;
}

/** An absolute http(s) OTLP endpoint without credentials, e.g. `http://collector:4318`. */
export function checkOtlpEndpoint(prop: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.hostname === '')
    throw new PropValidationError(
      `'${prop}' (${JSON.stringify(value)}) must be an http(s) OTLP endpoint such as 'http://collector:4318'`,
    );
  if (url.username !== '' || url.password !== '')
    throw new PropValidationError(
      `'${prop}' carries credentials: the endpoint is a literal env var, send headers through a Secret instead`,
    );
  return value;
}

/**
 * The env literals of `integrations` for one component: `OTEL_EXPORTER_OTLP_ENDPOINT` and
 * `OTEL_SERVICE_NAME` (`jobplane-<component>`) when an endpoint is set, `NATS_URL` when a URL is.
 */
export function integrationEnv(
  component: 'api' | 'relay' | 'worker' | 'launcher',
  integrations: RuntimeIntegrations | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (integrations?.otlpEndpoint !== undefined) {
    env['OTEL_EXPORTER_OTLP_ENDPOINT'] = checkOtlpEndpoint(
      'integrations.otlpEndpoint',
      integrations.otlpEndpoint,
    );
    env['OTEL_SERVICE_NAME'] = `jobplane-${component}`;
  }
  if (integrations?.natsUrl !== undefined) {
    const u = integrations.natsUrl;
    if (!/^(nats|tls):\/\/[^/@\s]+$/.test(u))
      throw new PropValidationError(
        `'integrations.natsUrl' (${JSON.stringify(u)}) must be a nats:// or tls:// URL without credentials`,
      );
    env[NATS_URL_ENV] = u;
  }
  return env;
}
