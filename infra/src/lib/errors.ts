/**
 * Prop validation shared by every construct. Messages name the prop, the value and the rule:
 * `'maxReplicas' (2) must be ≥ 'minReplicas' (3)`.
 */
import { parseQuantity } from './quantity.js';

/** Thrown when a construct receives props it cannot honour. */
export class PropValidationError extends Error {
  readonly code = 'CONSTRUCT.INVALID_PROP';
  constructor(message: string) {
    super(message);
    this.name = 'PropValidationError';
  }
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** `value` must be an integer in [min, max]. */
export function checkInt(prop: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    throw new PropValidationError(`'${prop}' (${show(value)}) must be ${range}`);
  }
  return value;
}

/** `a` must be ≥ `b`. */
export function checkGte(propA: string, a: number, propB: string, b: number): void {
  if (a < b) throw new PropValidationError(`'${propA}' (${a}) must be ≥ '${propB}' (${b})`);
}

/** `a` must be > `b`. */
export function checkGt(propA: string, a: number, propB: string, b: number): void {
  if (a <= b) throw new PropValidationError(`'${propA}' (${a}) must be > '${propB}' (${b})`);
}

/** RFC 1123 label (names of Kubernetes objects, namespaces, ports are checked elsewhere). */
export function checkDnsLabel(prop: string, value: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) {
    throw new PropValidationError(`'${prop}' (${show(value)}) must be a lowercase RFC 1123 label`);
  }
  return value;
}

/** `value` must be one of `allowed`. */
export function checkOneOf<T extends string>(prop: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new PropValidationError(`'${prop}' (${show(value)}) must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** A Kubernetes resource quantity (`100m`, `2`, `512Mi`) that is > 0. */
export function checkQuantity(prop: string, value: string, kind: 'cpu' | 'memory'): string {
  const n = parseQuantity(value);
  if (n === undefined || !(n > 0)) {
    const example = kind === 'cpu' ? "'250m' or '2'" : "'512Mi' or '2Gi'";
    throw new PropValidationError(
      `'${prop}' (${show(value)}) must be a positive quantity such as ${example}`,
    );
  }
  return value;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

/** A fully qualified lower-case DNS name with at least two labels; no wildcard, no IP address. */
export function checkHostname(prop: string, value: string): string {
  if (typeof value !== 'string' || !HOSTNAME.test(value) || /^[\d.]+$/.test(value)) {
    throw new PropValidationError(
      `'${prop}' (${show(value)}) must be a lower-case DNS name such as 'api.example.com' (no wildcard, no IP address)`,
    );
  }
  return value;
}
