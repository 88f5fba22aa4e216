/**
 * Argo CD ordering. Waves follow the construct dependency graph:
 * namespace/secrets/RBAC/policies → data stores → migrations → api/workers → scalers.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
 */
export const SYNC_WAVES = {
  foundation: -2,
  dataStores: -1,
  migrations: 0,
  workloads: 1,
  scalers: 2,
} as const;
export type SyncWave = keyof typeof SYNC_WAVES;

export interface ArgoAnnotationOptions {
  /** The kind is served by a CRD that may not exist at dry-run time (KEDA, prometheus-operator). */
  readonly crdBacked?: boolean;
  /** Apply server-side (large CRD objects, kedacore/charts#580). */
  readonly serverSideApply?: boolean;
}

/** `argocd.argoproj.io/sync-wave` (+ sync-options for CRD-backed kinds). */
export function argoAnnotations(wave: SyncWave, opts: ArgoAnnotationOptions = {}): Record<string, string> {
  const options: string[] = [];
  if (opts.crdBacked) options.push('SkipDryRunOnMissingResource=true');
  if (opts.serverSideApply) options.push('ServerSideApply=true');
  const out: Record<string, string> = { 'argocd.argoproj.io/sync-wave': String(SYNC_WAVES[wave]) };
  if (options.length > 0) out['argocd.argoproj.io/sync-options'] = options.join(',');
  return out;
}
