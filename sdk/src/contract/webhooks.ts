import { z } from 'zod';
import { decodeStandardSecret } from '../domain/webhook-signature.js';
import { JOB_TYPE_CATALOG, JOB_TYPES, type JobType } from './job-types.js';

/**
 * `JOBPLANE_WEBHOOKS`: webhook sources as JSON,
 * `{"<source>": {"scheme": "standard" | "github", "secret": "whsec_<base64>" | "<secret>", "jobType": "<type>"}}`.
 * Each source is served at `POST /v1/webhooks/<source>` and turns a verified delivery into a job of
 * `jobType` whose payload is the JSON body. A source with an empty or weak secret, or a job type
 * that clients cannot submit, refuses to start. Messages never echo a secret.
 */
export interface WebhookSourceConfig {
  readonly scheme: 'standard' | 'github';
  readonly secret: string;
  readonly jobType: JobType;
}

/** Source names appear in the URL and in idempotency keys. */
export const WEBHOOK_SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** GitHub secrets are free-form; refuse short ones. */
export const MIN_GITHUB_SECRET_LENGTH = 16;

const submittableTypes = JOB_TYPES.filter((t) => JOB_TYPE_CATALOG[t].submittable);

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
      try {
        decodeStandardSecret(secret);
      } catch (err) {
        fail(`source '${name}': ${(err as Error).message}`);
        continue;
      }
    } else if (secret.length < MIN_GITHUB_SECRET_LENGTH) {
      fail(
        `source '${name}': a github webhook secret must be at least ${MIN_GITHUB_SECRET_LENGTH} characters`,
      );
      continue;
    }
    if (!(submittableTypes as readonly string[]).includes(jobType)) {
      fail(
        `source '${name}': 'jobType' ('${jobType.slice(0, 64)}') must be a submittable job type (${submittableTypes.join(', ')})`,
      );
      continue;
    }
    out[name] = { scheme, secret, jobType: jobType as JobType };
  }
  return failed ? z.NEVER : out;
});
