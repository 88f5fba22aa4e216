import { toJSONSchema, type z } from 'zod';

/** Result of payload validation: either the typed payload or plain-English problems. */
export type PayloadCheck<P> = { ok: true; value: P } | { ok: false; problems: string[] };

/**
 * Turns a zod schema into a `parsePayload` implementation whose problems are plain English and name
 * the field and the value, e.g. `'durationMs' (700000) must be ≤ 600000`. `crossChecks` adds rules
 * that span fields (each returns complete sentences).
 */
export function checkPayload<S extends z.ZodType>(
  schema: S,
  input: unknown,
  crossChecks?: (value: z.output<S>) => readonly string[],
): PayloadCheck<z.output<S>> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(describeIssue) };
  // Rules spanning several fields run only on a well-typed payload, so they never see garbage.
  const problems = [...(crossChecks?.(parsed.data) ?? [])];
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: parsed.data };
}

/** `'a.b[2]'`-style name of an issue path; `payload` for the root. */
export function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'payload';
  let name = '';
  for (const key of path) {
    if (typeof key === 'number') name += `[${key}]`;
    else name += name === '' ? String(key) : `.${String(key)}`;
  }
  return name;
}

/** Short, bounded rendering of an offending value. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** One zod issue as a sentence naming the field and the value. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = `'${fieldName(issue.path)}'`;
  const input = 'input' in issue ? issue.input : undefined;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return `${field} is required (${issue.expected})`;
      return `${field} (${showValue(input)}) must be ${article(issue.expected)}`;
    case 'too_big': {
      const op = issue.inclusive === false ? '<' : '≤';
      if (issue.origin === 'array')
        return `${field} has ${countOf(input)} items; at most ${String(issue.maximum)} allowed`;
      if (issue.origin === 'string') return `${field} is longer than ${String(issue.maximum)} characters`;
      return `${field} (${showValue(input)}) must be ${op} ${String(issue.maximum)}`;
    }
    case 'too_small': {
      const op = issue.inclusive === false ? '>' : '≥';
      if (issue.origin === 'array')
        return `${field} has ${countOf(input)} items; at least ${String(issue.minimum)} required`;
      if (issue.origin === 'string') return `${field} is shorter than ${String(issue.minimum)} characters`;
      return `${field} (${showValue(input)}) must be ${op} ${String(issue.minimum)}`;
    }
    case 'unrecognized_keys':
      return issue.keys.map((k) => `unknown field '${fieldName([...issue.path, k])}'`).join('; ');
    case 'invalid_value':
      return `${field} (${showValue(input)}) must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if (issue.discriminator !== undefined && 'options' in issue && issue.options?.length) {
        const given =
          typeof input === 'object' && input !== null
            ? (input as Record<string, unknown>)[issue.discriminator]
            : input;
        return `${field} (${showValue(given)}) must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
      }
      return `${field} (${showValue(input)}) does not match any accepted form`;
    case 'invalid_format':
      // Our regex checks carry the rule as their message (e.g. "must be a month 'YYYY-MM'").
      if (issue.format === 'regex') return `${field} (${showValue(input)}) ${issue.message}`;
      return `${field} (${showValue(input)}) must be a valid ${issue.format}`;
    default:
      // Custom refinements write their own complete sentence.
      return issue.message;
  }
}

function countOf(value: unknown): string {
  return Array.isArray(value) ? String(value.length) : 'too many';
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'array' || expected === 'object') return `an ${expected}`;
  return `a ${expected}`;
}

/**
 * Validates an untrusted payload against a job type: its zod schema (defaults applied), then its
 * `checks`. Problems name the field and the value. The API and the worker both call this.
 */
export function validatePayload<P>(
  def: { readonly payload: z.ZodType<P, unknown>; readonly checks?: (payload: P) => readonly string[] },
  input: unknown,
): PayloadCheck<P> {
  return checkPayload(def.payload, input, def.checks) as PayloadCheck<P>;
}

/**
 * The JSON Schema of what a client submits for a job type (the payload before defaults), for
 * documentation (the API's OpenAPI document) and tools. `target` defaults to OpenAPI 3.0.
 * Refinements (`checks`, zod `.refine`) are not representable and are left out.
 */
export function payloadJsonSchema(
  def: { readonly payload: z.ZodType },
  target: 'openapi-3.0' | 'draft-2020-12' | 'draft-07' = 'openapi-3.0',
): Record<string, unknown> {
  const schema = toJSONSchema(def.payload, { target, io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete schema.$schema;
  return schema;
}
