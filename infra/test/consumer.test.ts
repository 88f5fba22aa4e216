import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

/**
 * Import into another repository: pack @jobplane/constructs as npm would publish it, install the
 * tarball into a copy of infra/examples/consumer outside this repository, compile the consumer's
 * TypeScript against the installed declarations and synthesize. @jobplane/runtime is not
 * published, so it is installed from this repository's folder (a `file:` link).
 */
const repo = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'jobplane-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('consumer example', () => {
  it('installs the packed tarball, compiles and synthesizes a JobPlatform chart', () => {
    const mainTs = readFileSync(join(repo, 'infra/examples/consumer/src/main.ts'), 'utf8');
    expect(mainTs.trimEnd().split('\n').length).toBeLessThan(20);

    run('npx', ['tsc', '-b', 'infra'], repo);
    const packed = run(
      'npm',
      ['pack', '-w', '@jobplane/constructs', '--pack-destination', work, '--json'],
      repo,
    );
    const [{ filename, files }] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    expect(paths).toContain('dist/index.d.ts');
    expect(paths).toContain('dist/verify/schema-fields.json');
    expect(
      paths.some((p) => p.startsWith('src/') || p.startsWith('test/') || p.endsWith('.tsbuildinfo')),
    ).toBe(false);

    const project = join(work, 'consumer');
    cpSync(join(repo, 'infra/examples/consumer'), project, {
      recursive: true,
      filter: (p) => !/node_modules|dist|manifests/.test(p.slice(repo.length)),
    });
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    pkg.dependencies['@jobplane/constructs'] = `file:${join(work, filename)}`;
    pkg.dependencies['@jobplane/runtime'] = `file:${join(repo, 'runtime')}`;
    pkg.dependencies['@jobplane/sdk'] = `file:${join(repo, 'sdk')}`;
    writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2));
    run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'],
      project,
    );
    // The installed copy is the tarball's content, not a link back into this repository.
    expect(existsSync(join(project, 'node_modules/@jobplane/constructs/dist/index.js'))).toBe(true);
    expect(existsSync(join(project, 'node_modules/@jobplane/constructs/src'))).toBe(false);

    run('node', [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], project);
    run('node', ['dist/main.js'], project);

    const out = join(project, 'manifests');
    const [file] = readdirSync(out);
    expect(file).toBe('acme-jobs.k8s.yaml');
    const objects = parseAllDocuments(readFileSync(join(out, file!), 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'Deployment/jobplane-api',
        'Deployment/acme-worker-default-b',
        'ScaledJob/jobplane-run-backtest-full',
      ]),
    );
    expect(readFileSync(join(out, file!), 'utf8')).toContain('registry.example.com/acme/jobplane:v1.4.2');
  });
});
