import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DEPLOYMENT } from '../deploy/synth.js';
import { main, resolveImageTags } from '../src/synth/main.js';
import { synthesizeAll } from '../src/synth/synthesize.js';

const { catalog, environments } = DEPLOYMENT;
const envNames = environments.map((e) => e.name);

const repo = fileURLToPath(new URL('../../', import.meta.url));
const tags = { dev: 'aaa', staging: 'bbb', prod: 'ccc' };
const tmp = mkdtempSync(join(tmpdir(), 'jobplane-synth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

describe('synthesizeAll', () => {
  it('is byte-identical on re-run', () => {
    const a = synthesizeAll(catalog, tags, environments);
    const b = synthesizeAll(catalog, tags, environments);
    expect([...a.files.keys()]).toEqual([...b.files.keys()]);
    for (const [file, content] of a.files) expect(b.files.get(file)).toBe(content);
  });

  it('writes one parseable object per charts-out file, with stable names, sorted', () => {
    const { files } = synthesizeAll(catalog, tags, environments);
    const names = [...files.keys()];
    expect(names).toEqual([...names].sort());
    for (const [file, content] of files) {
      const docs = parseAllDocuments(content).map(
        (d) => d.toJS() as { kind: string; metadata: { name: string } },
      );
      if (file.startsWith('charts-out/')) {
        expect(docs).toHaveLength(1);
        expect(file).toContain(`.${docs[0]!.kind.toLowerCase()}.${docs[0]!.metadata.name}.yaml`);
      }
      expect(content).not.toMatch(/:latest\b/);
    }
    expect(files.get('charts-out/staging/jobplane.deployment.jobplane-api.yaml')).toContain('jobplane:bbb');
  });

  it('fails clearly without a tag for an environment', () => {
    expect(() => synthesizeAll(catalog, { dev: 'x' }, environments)).toThrow(
      "no image tag for environment 'staging'",
    );
  });
});

describe('synth main', () => {
  it('reads infra/image-tags.json (git SHAs) and honours JOBPLANE_IMAGE_TAG', () => {
    const committed = resolveImageTags(join(repo, 'infra/image-tags.json'), undefined, envNames);
    expect(Object.keys(committed).sort()).toEqual(['dev', 'prod', 'staging']);
    for (const t of Object.values(committed)) expect(t).toMatch(/^[0-9a-f]{40}$/);
    expect(resolveImageTags(join(repo, 'infra/image-tags.json'), 'local-1', envNames)).toEqual({
      dev: 'local-1',
      staging: 'local-1',
      prod: 'local-1',
    });
  });

  it('writes the committed charts-out/ and argocd/ exactly (drift check) and prints a summary', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const out = join(tmp, 'repo');
      expect(await main(['--out', out], {}, DEPLOYMENT)).toBe(0);
      const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(printed).toMatch(/^dev: \d+ objects, image tag [0-9a-f]{40}$/m);
      expect(printed).toContain('ScaledObject jobplane-worker-default      1..2, cooldown 300s');
      expect(printed).toContain('0 findings');
      for (const dir of ['charts-out', 'argocd']) {
        const fresh = listFiles(join(out, dir));
        expect(fresh).toEqual(listFiles(join(repo, dir)));
        for (const f of fresh)
          expect(readFileSync(join(out, dir, f), 'utf8')).toBe(readFileSync(join(repo, dir, f), 'utf8'));
      }
      // A second run replaces stale files and stays identical.
      expect(await main(['--out', out], { JOBPLANE_IMAGE_TAG: 'override-7' }, DEPLOYMENT)).toBe(0);
      expect(
        readFileSync(join(out, 'charts-out/prod/jobplane.deployment.jobplane-api.yaml'), 'utf8'),
      ).toContain(':override-7');
    } finally {
      log.mockRestore();
    }
  });
});
