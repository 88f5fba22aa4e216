import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.cjs');

async function cruise(cwd: string, paths: string[]) {
  return run(depcruise, ['--config', config, '--output-type', 'err', ...paths], { cwd }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
  );
}

describe('layer rules (.dependency-cruiser.cjs)', () => {
  it('report planted violations in a fixture tree', async () => {
    const fixture = join(root, 'test', 'fixtures', 'layers');
    const result = await cruise(fixture, ['runtime/src', 'infra/src']);
    expect(result.code).not.toBe(0);
    expect(result.out).toContain(
      'error domain-is-pure: runtime/src/domain/job.ts → runtime/src/adapters/store.ts',
    );
    expect(result.out).toContain(
      'error only-main-wires-adapters: runtime/src/application/ok.ts → runtime/src/adapters/store.ts',
    );
    expect(result.out).toContain(
      'error infra-never-imports-runtime: infra/src/chart.ts → runtime/src/domain/job.ts',
    );
  });

  it('hold for the real tree', async () => {
    const result = await cruise(root, [
      'proto/src',
      'sdk/src',
      'runtime/src',
      'infra/src',
      'stacks/src',
      'examples/src',
    ]);
    expect(result.out).not.toMatch(/error/);
    expect(result.code).toBe(0);
  });
});
