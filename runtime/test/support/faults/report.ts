import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InvariantReport } from './invariants.js';
import { PROFILE } from './profile.js';

/** One row of the fault table in docs/reliability.md. */
export interface FaultFigure {
  readonly suite: string;
  readonly fault: string;
  readonly injections: number;
  readonly accepted: number;
  readonly lost: number;
  readonly duplicateExecutions: number;
  /** ms from the fault until the affected work finished (see docs/reliability.md for the definition per fault). */
  readonly recoveryMs: readonly number[];
  readonly notes?: string;
}

/** Where figures go (JSON lines); `FAULTS_REPORT` overrides. */
export const REPORT_PATH = process.env.FAULTS_REPORT ?? join(tmpdir(), `jobplane-faults-${PROFILE}.jsonl`);

export function recordFigure(f: FaultFigure): void {
  const line = { at: new Date().toISOString(), profile: PROFILE, ...f };
  appendFileSync(REPORT_PATH, `${JSON.stringify(line)}\n`);
  console.log(`[faults] ${JSON.stringify(line)}`);
}

/** Every invariant of a "nothing lost" run, as one object so a failure shows all of them at once. */
export function violations(r: InvariantReport, unresolvedSubmissions: number): Record<string, unknown> {
  return {
    lost: r.lost,
    nonTerminal: r.nonTerminal.slice(0, 10),
    acceptedEqualsRows:
      unresolvedSubmissions === 0 ? r.accepted === r.rows : r.accepted + unresolvedSubmissions >= r.rows,
    illegalTransitions: r.illegalTransitions.slice(0, 10),
    twoTerminal: r.twoTerminal.slice(0, 10),
    rowEventMismatch: r.rowEventMismatch.slice(0, 10),
  };
}

export const NO_VIOLATIONS = {
  lost: [],
  nonTerminal: [],
  acceptedEqualsRows: true,
  illegalTransitions: [],
  twoTerminal: [],
  rowEventMismatch: [],
};
