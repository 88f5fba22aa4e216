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
