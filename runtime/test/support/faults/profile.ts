/**
 * `FAULTS_PROFILE=short` (default, part of `make test`) keeps the whole faults project within a few
 * minutes on 2 cores; `FAULTS_PROFILE=full` runs longer, with more load and more faults.
 */
export type FaultsProfile = 'short' | 'full';

export const PROFILE: FaultsProfile = process.env.FAULTS_PROFILE === 'full' ? 'full' : 'short';

/** Picks the short or the full value. */
export function byProfile<T>(short: T, full: T): T {
  return PROFILE === 'full' ? full : short;
}
