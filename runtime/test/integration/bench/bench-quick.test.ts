import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench } from '../../../bench/run.js';
import type { Group } from '../../../bench/lib/harness.js';
import type { BenchResults } from '../../../bench/lib/report.js';

/**
 * Keeps `npm run bench -- --quick` from rotting: runs it for real (private redis-server and
 * database) and checks the shape of what it writes. No timing is asserted: figures from a shared
 * 2-core machine say nothing about regressions; the full benchmark is its own command.
 *
 * One test per cell group (`--only <group>`), so each test's budget bounds one group's work
 * (a hang detector) instead of the sum of every cell's process start-ups, which grows with the
 * machine's load (one whole-bench test overran 180 s at load average 22).
 */
const CELLS: Readonly<Record<Group, readonly string[]>> = {
  B0: ['B0.redis', 'B0.pg.c1', 'B0.pg.c8'],
  B1: ['B1.add.f1', 'B1.addBulk.b100', 'B1.process.c50'],
  B2: ['B2.hello', 'B2.post'],
  B3: ['B3.pipeline'],
  P: ['P.platform'],
  C: ['P.scale'],
  L: [],
  S: [],
  F: ['F.fairness'],
};

describe('benchmark quick mode', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'jobplane-bench-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  for (const group of Object.keys(CELLS) as Group[]) {
    it(
      `measures every ${group} cell it can and writes JSON and Markdown results`,
      { timeout: 180_000 },
      async () => {
        const { files } = await runBench({
          quick: true,
          repeats: 1,
          warmup: false,
          only: [group],
          outDir: path.join(out, group),
          log: () => undefined,
          command: `npm run bench -- --quick --only ${group}`,
        });
        expect(existsSync(files.json) && existsSync(files.markdown)).toBe(true);
        const json = JSON.parse(readFileSync(files.json, 'utf8')) as BenchResults;
        expect(json.schemaVersion).toBe(1);
        expect(json.mode).toBe('quick');
        expect(json.machine.cores).toBeGreaterThan(0);

        const ids = json.cells.map((c) => c.id);
        expect(ids.length).toBeGreaterThan(0);
        for (const id of CELLS[group]) expect(ids).toContain(id);
        for (const cell of json.cells) {
          expect(cell.group).toBe(group);
          // A cell is either measured (every declared metric has median/min/max) or says why not.
          expect(cell.status, `${cell.id}: ${cell.reason ?? ''}`).not.toBe('failed');
          if (cell.status === 'not-measured') {
            expect(cell.reason).toMatch(/\S/);
            continue;
          }
          expect(Object.keys(cell.metrics).length).toBeGreaterThan(0);
          for (const [name, m] of Object.entries(cell.metrics)) {
            expect(m.samples, `${cell.id}.${name}`).toHaveLength(1);
            expect(typeof m.median).toBe('number');
            expect(m.min).toBeLessThanOrEqual(m.max);
          }
        }
        if (group === 'P')
          expect(json.derived.map((d) => d.name)).toContain('P PostgreSQL commits per job (single)');

        const markdown = readFileSync(files.markdown, 'utf8');
        expect(markdown).toContain('| cell | metric | median | min–max | unit |');
        for (const id of CELLS[group]) expect(markdown).toContain(id);
      },
    );
  }
});
