import { z } from 'zod';
import { JOB_TYPE_PATTERN } from './names.js';

/**
 * `JOBPLANE_WEBHOOKS`: webhook sources as JSON,
 * `{"<source>": {"scheme": "standard" | "github", "secret": "whsec_<base64>" | "<secret>", "jobType": "<type>"}}`.
 * Each source is served at `POST /v1/webhooks/<source>` and turns a verified delivery into a job of
 * `jobType` whose payload is the JSON body. A source with an empty or weak secret refuses to start;
 * so does a job type that the catalog does not let clients submit (`checkConfigAgainstCatalog`).
 * Messages never echo a secret.
 */
export interface WebhookSourceConfig {
  readonly scheme: 'standard' | 'github';
  readonly secret: string;
  readonly jobType: string;
}

/** Source names appear in the URL and in idempotency keys. */
export const WEBHOOK_SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** GitHub secrets are free-form; refuse short ones. */
export const MIN_GITHUB_SECRET_LENGTH = 16;
/** Standard Webhooks secrets are `whsec_<base64>` and decode to at least this many bytes. */
export const STANDARD_SECRET_PREFIX = 'whsec_';
export const MIN_STANDARD_SECRET_BYTES = 16;

/** Why a Standard Webhooks secret is unusable, or undefined when it is fine. Never echoes it. */
export function standardSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith(STANDARD_SECRET_PREFIX))
    return `a standard webhook secret must start with '${STANDARD_SECRET_PREFIX}'`;
  const b64 = secret.slice(STANDARD_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1)
    return `a standard webhook secret must be '${STANDARD_SECRET_PREFIX}' followed by base64`;
  const bytes = Math.floor((b64.replace(/=+$/, '').length * 3) / 4);
  if (bytes < MIN_STANDARD_SECRET_BYTES)
    return `a standard webhook secret must decode to at least ${MIN_STANDARD_SECRET_BYTES} bytes (got ${bytes})`;
  return undefined;
}

const sourceSchema = z
  .object({
    scheme: z.enum(['standard', 'github']),
    secret: z.string(),
    jobType: z.string(),
  })
  .strict();

/** Parses and validates the JSON value of `JOBPLANE_WEBHOOKS`; issues name the source and the rule. */
export const webhookSourcesSchema = z.string().transform((raw, ctx): Record<string, WebhookSourceConfig> => {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a JSON object {"<source>": {"scheme", "secret", "jobType"}}',
    });
    return z.NEVER;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a JSON object {"<source>": {"scheme", "secret", "jobType"}}',
    });
    return z.NEVER;
  }
  const out: Record<string, WebhookSourceConfig> = {};
  let failed = false;
  const fail = (message: string): void => {
    ctx.addIssue({ code: 'custom', message });
    failed = true;
  };
  for (const [name, value] of Object.entries(json)) {
    if (!WEBHOOK_SOURCE_NAME.test(name)) {
      fail(`source '${name.slice(0, 64)}' must match ${WEBHOOK_SOURCE_NAME.source}`);
      continue;
    }
    const parsed = sourceSchema.safeParse(value);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => `'${i.path.join('.') || '(source)'}' ${i.message}`);
      fail(`source '${name}': ${fields.join('; ')}`);
      continue;
    }
    const { scheme, secret, jobType } = parsed.data;
    if (secret.length === 0) {
      fail(`source '${name}': 'secret' must not be empty`);
      continue;
    }
    if (scheme === 'standard') {
      const problem = standardSecretProblem(secret);
      if (problem !== undefined) {
        fail(`source '${name}': ${problem}`);
        continue;
      }
    } else if (secret.length < MIN_GITHUB_SECRET_LENGTH) {
      fail(
        `source '${name}': a github webhook secret must be at least ${MIN_GITHUB_SECRET_LENGTH} characters`,
      );
      continue;
    }
    if (!JOB_TYPE_PATTERN.test(jobType)) {
      fail(`source '${name}': 'jobType' ('${jobType.slice(0, 64)}') must match ${JOB_TYPE_PATTERN.source}`);
      continue;
    }
    out[name] = { scheme, secret, jobType };
  }
  return failed ? z.NEVER : out;
});
