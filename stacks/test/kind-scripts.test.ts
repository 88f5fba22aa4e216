/**
 * Runs the KindCluster create/delete scripts with bash against a fake `kind` on PATH (there is no
 * Docker here, so the real kind cannot run): checks the arguments kind gets, that the config file
 * holds the generated config and is removed afterwards, that stdout carries only the kubeconfig,
 * and that a kind failure fails the command.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KIND_CREATE_SCRIPT, KIND_DELETE_SCRIPT, kindClusterConfigYaml } from '../src/kind-cluster.js';

let bin: string;
const FAKE_KIND = `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >> "$FAKE_KIND_LOG"
case "$1 $2" in
  "create cluster")
    while [ $# -gt 0 ]; do
      if [ "$1" = "--config" ]; then cp "$2" "$FAKE_KIND_DIR/config-seen.yaml"; echo "$2" > "$FAKE_KIND_DIR/config-path"; fi
      shift
    done
    echo "Creating cluster ..." >&2
    [ "\${FAKE_KIND_FAIL:-}" = "1" ] && { echo "ERROR: failed to create cluster" >&2; exit 1; }
    exit 0 ;;
  "get kubeconfig") printf 'apiVersion: v1\\nkind: Config\\n' ;;
  "delete cluster") echo "Deleting cluster ..." >&2 ;;
  *) exit 2 ;;
esac
`;

function run(script: string, extraEnv: Record<string, string> = {}) {
  const config = kindClusterConfigYaml({
    clusterName: 'jobplane-dev',
    nodeImage: 'kindest/node:v1.34.0',
    workers: 1,
  });
  const res = spawnSync('/bin/bash', ['-c', script], {
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      KIND_CLUSTER_NAME: 'jobplane-dev',
      KIND_CONFIG: config,
      FAKE_KIND_LOG: join(bin, 'log'),
      FAKE_KIND_DIR: bin,
      ...extraEnv,
    },
  });
  return { ...res, config };
}

beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), 'fake-kind-'));
  writeFileSync(join(bin, 'kind'), FAKE_KIND);
  chmodSync(join(bin, 'kind'), 0o755);
});
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('kind create/delete scripts', () => {
  it('creates the cluster from the generated config file and prints only the kubeconfig', () => {
    rmSync(join(bin, 'log'), { force: true });
    const res = run(KIND_CREATE_SCRIPT);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toBe('apiVersion: v1\nkind: Config\n');
    expect(res.stderr).toContain('Creating cluster');
    const calls = readFileSync(join(bin, 'log'), 'utf8').trim().split('\n');
    expect(calls[0]).toMatch(/^create cluster --name jobplane-dev --config \S+ --wait 180s$/);
    expect(calls[1]).toBe('get kubeconfig --name jobplane-dev');
    expect(readFileSync(join(bin, 'config-seen.yaml'), 'utf8')).toBe(res.config);
    // The temporary config file is removed when the script exits.
    expect(existsSync(readFileSync(join(bin, 'config-path'), 'utf8').trim())).toBe(false);
  });

  it('fails (and prints no kubeconfig) when kind fails', () => {
    const res = run(KIND_CREATE_SCRIPT, { FAKE_KIND_FAIL: '1' });
    expect(res.status).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('failed to create cluster');
  });

  it('deletes the cluster by name', () => {
    rmSync(join(bin, 'log'), { force: true });
    const res = run(KIND_DELETE_SCRIPT);
    expect(res.status).toBe(0);
    expect(res.stdout).toBe('');
    expect(readFileSync(join(bin, 'log'), 'utf8').trim()).toBe('delete cluster --name jobplane-dev');
  });
});
