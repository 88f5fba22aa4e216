import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function readText(rel: string): string {
  return readFileSync(join(ROOT, rel), 'utf8');
}

export function readYaml<T = unknown>(rel: string): T {
  return parse(readText(rel), { merge: true }) as T;
}

/**
 * Compose-style variable interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$$`), with
 * the defaults a developer gets when nothing is exported. Compose validates after interpolation.
 */
export function interpolate<T>(value: T, env: Record<string, string | undefined> = {}): T {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}/g,
      (m, name: string, colon: string, def: string) => {
        if (m === '$$') return '$';
        const v = env[name];
        if (def === undefined) return v ?? '';
        if (colon) return v === undefined || v === '' ? def : v;
        return v ?? def;
      },
    ) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => interpolate(v, env)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)])) as T;
  }
  return value;
}
