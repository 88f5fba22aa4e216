/**
 * Kubernetes resource quantities (`100m`, `1.5`, `512Mi`, `2Gi`, `1e3`) as numbers: CPU in cores,
 * memory in bytes. The grammar is apimachinery's `resource.Quantity` (a signed decimal number
 * with a binary-SI, decimal-SI or decimal-exponent suffix).
 * @see https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity, or `undefined` when it is not one. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[2];
  if (suffix === undefined) return n;
  if (/^[eE]/.test(suffix)) return n * 10 ** Number(suffix.slice(1));
  return n * SUFFIX[suffix]!;
}

/** CPU cores for display: `2`, `0.25`. */
export function formatCpu(cores: number): string {
  return String(Math.round(cores * 1000) / 1000);
}

/** Memory for display in GiB: `1.5Gi`. */
export function formatMemory(bytes: number): string {
  return `${Math.round((bytes / 2 ** 30) * 100) / 100}Gi`;
}
