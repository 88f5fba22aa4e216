/**
 * Container-job faults against the fake Kubernetes API (real HTTP, the real client): a watch cut
 * and 410 Gone, 500s and a timeout on create, a Job deleted by hand, the watcher down for a Job's
 * whole life (the reconciler records it), `kill -9` of the launcher between the create and its
 * record, two launchers started at once. Each asserts exactly one Job per attempt and no job lost.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLauncher } from '../../src/main/launcher.js';
import { waitFor } from '../integration/helpers.js';
import {
  ADMIN_KEY,
  CATALOG_PATH,
  containerEnv,
  exactlyOnePerAttempt,
  type ContainerEnv,
} from '../support/fake-kube/harness.js';
import { Supervisor } from '../support/faults/supervisor.js';

let env: ContainerEnv;
let launcher: RunningLauncher | undefined;
const sup = new Supervisor();

beforeAll(async () => {
  env = await containerEnv('ctr-faults');
});
afterEach(async () => {
  await launcher?.stop();
  launcher = undefined;
  env.api.faults.length = 0;
  env.api.holdCreates = false;
  env.api.releaseHeld();
  await sup.stopAll();
});
afterAll(async () => {
  await env?.close();
  sup.removeLogs();
});

type Err = { code: string };

async function reconcileStatus(port: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/admin/reconcile`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  }).catch(() => undefined);
  return res?.status ?? 0;
}

describe('the watch stream', () => {
  it('a cut stream and a 410 Gone on resume: the watcher relists and nothing is lost', async () => {
    launcher = await env.startLauncher();
    const id = await env.submit('test.echo', { value: 11, runMs: 1200 });
    await waitFor(async () => env.jobsCreated(id).size === 1);
    await waitFor(async () => env.api.watchCount >= 2);
    const listsBefore = env.api.requests.filter(
      (r) => r === 'GET /apis/batch/v1/namespaces/jobs/jobs',
    ).length;
    env.api.compact();
    expect(env.api.cutWatches()).toBeGreaterThanOrEqual(1);
    const row = await env.waitForState(id, 'succeeded');
    expect(row.result).toEqual({ echo: 11, attempt: 1, index: 0 });
    const listsAfter = env.api.requests.filter((r) => r === 'GET /apis/batch/v1/namespaces/jobs/jobs').length;
    expect(listsAfter).toBeGreaterThan(listsBefore);
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
  });
});

describe('creating the Job', () => {
  it('500s on create are retried; a 500 after the Job was stored is adopted on the 409', async () => {
    launcher = await env.startLauncher();
    env.api.faults.push({ method: 'POST', path: /\/jobs$/, effect: 500, times: 1 });
    env.api.faults.push({ method: 'POST', path: /\/jobs$/, effect: 500, times: 1, afterApply: true });
    const conflicts = env.api.conflicts;
    const id = await env.submit('test.echo', { value: 12 });
    await env.waitForState(id, 'succeeded');
    expect(env.api.conflicts).toBe(conflicts + 1);
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
    expect((await env.events(id)).map((e) => e.reason)).toContain('k8s_job_adopted');
  });

  it('a create that times out after the Job was stored: the retry adopts it', async () => {
    launcher = await env.startLauncher();
    env.api.faults.push({ method: 'POST', path: /\/jobs$/, effect: 'hang', times: 1, afterApply: true });
    const id = await env.submit('test.echo', { value: 13 });
    const row = await env.waitForState(id, 'succeeded');
    expect(row.attempts).toBe(1);
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
  });
});

describe('the reconciler', () => {
  it('a Job deleted by hand: K8S.JOB_MISSING, retried with a new attempt', async () => {
    launcher = await env.startLauncher();
    const id = await env.submit('test.echo', { script: ['hang', 'succeed'], value: 14 });
    await waitFor(async () =>
      env.api
        .list('pods')
        .some((p) => p.metadata.labels['jobplane.dev/job-id'] === id && p.status.phase === 'Running'),
    );
    const [job] = env.api.list('jobs').filter((j) => j.metadata.labels['jobplane.dev/job-id'] === id);
    env.api.remove('jobs', 'jobs', job!.metadata.name); // kubectl delete job
    const row = await env.waitForState(id, 'succeeded');
    expect(row.attempts).toBe(2);
    const failed = (await env.events(id)).find((e) => e.reason === 'attempt_failed');
    expect((failed?.details as Err).code).toBe('K8S.JOB_MISSING');
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 2)).toBe(true);
  });

  it("the watcher down for a Job's whole life: the reconciler records the outcome", async () => {
    launcher = await env.startLauncher({}, { watch: false });
    const watchesBefore = env.api.requests.filter((r) => r.endsWith('?watch')).length;
    const id = await env.submit('test.echo', { value: 15 });
    const row = await env.waitForState(id, 'succeeded');
    expect(row.result).toEqual({ echo: 15, attempt: 1, index: 0 });
    expect(env.api.requests.filter((r) => r.endsWith('?watch')).length).toBe(watchesBefore);
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
  });

  it('on demand: POST /admin/reconcile answers the report (401 without the key)', async () => {
    launcher = await env.startLauncher();
    const port = launcher.health.address() as { port: number };
    await waitFor(async () => launcher!.isLeader());
    const denied = await fetch(`http://127.0.0.1:${port.port}/admin/reconcile`, { method: 'POST' });
    expect(denied.status).toBe(401);
    expect((await denied.json()) as { code: string }).toMatchObject({ code: 'AUTH.UNAUTHENTICATED' });
    const ok = await fetch(`http://127.0.0.1:${port.port}/admin/reconcile`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ checked: expect.any(Number), missing: 0 });
  });
});

describe('launcher processes', () => {
  const child = async (name: string) => {
    const e = await env.launcherEnv({
      KUBECONFIG: env.api.kubeConfigFile(),
      JOBPLANE_CATALOG: CATALOG_PATH,
      LOG_LEVEL: 'info',
    });
    const p = sup.add({
      name,
      command: 'launcher',
      env: e,
      healthUrl: `http://127.0.0.1:${e.METRICS_PORT}/healthz`,
    });
    return { p, port: e.METRICS_PORT! };
  };

  it('kill -9 between the create and its record: the next launcher adopts the Job (one Job, nothing lost)', async () => {
    const a = await child('launcher-a');
    a.p.start();
    await a.p.waitHealthy();
    env.api.holdCreates = true;
    const id = await env.submit('test.echo', { value: 16 });
    await waitFor(async () => env.jobsCreated(id).size === 1, 30_000);
    await a.p.kill9(); // the Job exists; the launcher never heard back
    env.api.holdCreates = false;
    const events = (await env.events(id)).map((e) => e.reason);
    expect(events).not.toContain('k8s_job_created');
    const b = await child('launcher-b');
    b.p.start();
    await b.p.waitHealthy();
    const row = await env.waitForState(id, 'succeeded', 40_000);
    expect(row.attempts).toBe(1);
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
    expect((await env.events(id)).map((e) => e.reason)).toContain('k8s_job_adopted');
  });

  it('two launchers started at once: one leader, one Job per attempt; the standby takes over after kill -9', async () => {
    const a = await child('launcher-c');
    const b = await child('launcher-d');
    a.p.start();
    b.p.start();
    await Promise.all([a.p.waitHealthy(), b.p.waitHealthy()]);
    await waitFor(async () => {
      const s = [await reconcileStatus(a.port), await reconcileStatus(b.port)].sort();
      return s[0] === 200 && s[1] === 503;
    }, 30_000);
    const ids = await Promise.all([1, 2, 3, 4].map((v) => env.submit('test.echo', { value: v })));
    for (const id of ids) await env.waitForState(id, 'succeeded', 30_000);
    for (const id of ids) expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
    const leader = (await reconcileStatus(a.port)) === 200 ? a : b;
    const standby = leader === a ? b : a;
    await leader.p.kill9();
    await waitFor(async () => (await reconcileStatus(standby.port)) === 200, 30_000);
    const id = await env.submit('test.echo', { value: 5 });
    await env.waitForState(id, 'succeeded', 30_000);
    expect(exactlyOnePerAttempt(env.jobsCreated(id), 1)).toBe(true);
  });
});
