/**
 * The job console in a real browser: Debian's Chromium driven by playwright-core against a real
 * `jobplane api | relay | worker` (child processes, runtime/dist) on a private PostgreSQL database
 * and redis-server. One browser for the file; one context (a fresh session storage) per user.
 *
 * Set CONSOLE_SCREENSHOTS=<dir> to write the screenshots docs/console.md shows.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleDistDir } from '../../src/main/console.js';
import { FaultCluster } from '../support/faults/cluster.js';
import { CLI_PATH } from '../support/faults/supervisor.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS;
const ALICE = randomBytes(16).toString('hex');
const BOB = randomBytes(16).toString('hex');
const ADMIN = randomBytes(16).toString('hex');
/** Generous: the machine is shared; nothing asserts on how long a step takes. */
const STEP_MS = 60_000;

let cluster: FaultCluster;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Console errors and uncaught exceptions of every page, checked at the end. */
const consoleErrors: string[] = [];

async function open(key: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${name}: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${name}: uncaught ${e.message}`));
  await page.goto(`${cluster.apiUrl}/console`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor();
  return page;
}

/** axe-core over the current page: no serious or critical violation. */
async function axe(page: Page, what: string): Promise<void> {
  const r = await new AxeBuilder({ page }).analyze();
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map(
      (v) =>
        `${what}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    ),
  ).toEqual([]);
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function apiSubmit(key: string, type: string, payload: unknown, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${cluster.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
    },
    body: JSON.stringify({ type, payload, ...extra }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { job: { id: string } }).job.id;
}

async function apiJob(key: string, id: string): Promise<{ job: { state: string }; children: unknown }> {
  const res = await fetch(`${cluster.apiUrl}/console/api/jobs/${id}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return (await res.json()) as { job: { state: string }; children: unknown };
}

async function waitState(key: string, id: string, state: string): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const j = await apiJob(key, id);
    if (j.job.state === state) return;
    if (Date.now() > deadline)
      throw new Error(`job ${id} is ${j.job.state}, wanted ${state}\n${cluster.sup.dump(30)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  if (!existsSync(CLI_PATH))
    throw new Error(`${CLI_PATH} is missing: run \`npx tsc -b\` before the e2e tests`);
  if (!consoleDistDir()) throw new Error('console/dist is missing: run `npm run build` before the e2e tests');
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  [cluster, browser] = await Promise.all([
    FaultCluster.start({
      env: {
        JOBPLANE_API_KEYS: `alice:${ALICE},bob:${BOB}`,
        JOBPLANE_ADMIN_KEY: ADMIN,
        RETRY_BASE_DELAY_MS: '50',
        RETRY_MAX_DELAY_MS: '200',
        LOG_LEVEL: 'warn',
      },
    }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    }),
  ]);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await cluster?.stop();
});

describe('job console in Chromium', () => {
  let alice: Page;
  let sleepId = '';
  let sweepId = '';

  it('signs in with an API key kept in session storage (never in the URL), with no serious accessibility violation', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${cluster.apiUrl}/console`);
    await page.getByLabel('API key').waitFor();
    await axe(page, 'sign-in');
    await page.getByLabel('API key').fill('not-a-valid-key-0000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/AUTH\.UNAUTHENTICATED/);
    await context.close();

    alice = await open(ALICE, 'alice');
    expect(await alice.getByTestId('who').textContent()).toBe('client alice');
    expect(alice.url()).not.toContain(ALICE);
    expect(await alice.evaluate('sessionStorage.getItem("jobplane.apiKey")')).toBe(ALICE);
    expect(await alice.evaluate('localStorage.length')).toBe(0);
  });

  it('submits a job from the form and watches it run live to success', async () => {
    await alice.goto(`${cluster.apiUrl}/console#/submit`);
    await alice.getByLabel('job type').selectOption('demo.sleep');
    await alice.getByLabel('payload (JSON)').fill(JSON.stringify({ durationMs: 3000 }));
    await alice.getByRole('button', { name: 'Submit' }).click();
    await alice.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    sleepId = /#\/jobs\/([0-9a-f-]{36})$/.exec(alice.url())![1]!;
    // Pushed by the stream: running with a progress bar, then succeeded, without reloading.
    await alice.locator('[data-testid=job-state] .s-running').waitFor();
    await alice.getByRole('progressbar', { name: 'job progress' }).waitFor();
    await shot(alice, 'job-running');
    await alice.locator('[data-testid=job-state] .s-succeeded').waitFor();
    const timeline = await alice.getByTestId('timeline').textContent();
    expect(timeline).toContain('submitted');
    expect(timeline).toContain('attempt_started');
    expect(timeline).toMatch(/succeeded/);
    expect(await alice.getByTestId('attempts').textContent()).toBe('1 of 3');
  });

  it('shows a backtest sweep: children rolled up, then the heatmap, equity curve and top pairs', async () => {
    await alice.goto(`${cluster.apiUrl}/console#/submit`);
    await alice.getByLabel('job type').selectOption('backtest.sweep');
    await alice.getByLabel('payload (JSON)').fill(
      JSON.stringify({
        series: { kind: 'random-walk', seed: 7, length: 240 },
        grid: { fast: { from: 2, to: 10, step: 2 }, slow: { from: 12, to: 60, step: 12 } },
        chunkSize: 5,
        top: 5,
      }),
    );
    await alice.getByRole('button', { name: 'Submit' }).click();
    await alice.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    sweepId = /#\/jobs\/([0-9a-f-]{36})$/.exec(alice.url())![1]!;
    await alice.getByRole('heading', { name: 'Children (5)' }).waitFor();
    await alice.getByRole('progressbar', { name: 'children progress' }).waitFor();
    await alice.locator('[data-testid=job-state] .s-succeeded').waitFor();
    const view = alice.getByTestId('result-view');
    await view.waitFor();
    expect(await alice.getByTestId('children-states').textContent()).toMatch(/succeeded\s*5/);
    // 5 fast × 5 slow windows, every pair fast < slow: 25 cells
    expect(await alice.locator('[data-testid=heatmap] rect').count()).toBe(25);
    expect(await alice.locator('[data-testid=lines] polyline').count()).toBe(2);
    expect(await alice.locator('[data-testid=view-table] tbody tr').count()).toBe(5);
    expect(await view.textContent()).toContain('buy-and-hold');
    await shot(alice, 'result-view');
    await axe(alice, 'result view');
  });

  it('filters the job list by type, state, parent and id, live', async () => {
    await alice.goto(`${cluster.apiUrl}/console#/jobs`);
    const rows = alice.getByTestId('jobs-table').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(7); // the sleep, the sweep and its 5 children
    await alice.getByLabel('type').selectOption('demo.sleep');
    await alice.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(alice.url()).toContain('type=demo.sleep');
    await alice.goto(`${cluster.apiUrl}/console#/jobs?parent=${sweepId}`);
    await expect.poll(() => rows.count()).toBe(5);
    await alice.goto(`${cluster.apiUrl}/console#/jobs?q=${sleepId}`);
    await expect.poll(() => alice.locator(`tr[data-job-id="${sleepId}"]`).count()).toBe(1);
    await expect.poll(() => rows.count()).toBe(1);
    // live: a job submitted elsewhere shows up on the first page without a reload
    await alice.goto(`${cluster.apiUrl}/console#/jobs?state=queued`);
    await alice.getByText('No jobs match.').waitFor();
    const later = await apiSubmit(
      ALICE,
      'demo.sleep',
      { durationMs: 1 },
      { runAt: new Date(Date.now() + 3_600_000).toISOString() },
    );
    await alice.locator(`tr[data-job-id="${later}"]`).waitFor();
    await shot(alice, 'jobs');
    await axe(alice, 'jobs list');
  });

  it('redrives dead-lettered jobs in bulk after a confirmation', async () => {
    const dead = await Promise.all(
      [1, 2].map(() => apiSubmit(ALICE, 'demo.sleep', { durationMs: 1, failureRate: 1 }, { maxAttempts: 1 })),
    );
    for (const id of dead) await waitState(ALICE, id, 'dead_lettered');
    await alice.goto(`${cluster.apiUrl}/console#/dead-letters`);
    for (const id of dead) await alice.getByLabel(`select job ${id}`).check();
    await alice.getByRole('button', { name: 'Redrive 2 selected' }).click();
    const dialog = alice.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Redrive 2 dead-lettered jobs?' }).waitFor();
    await shot(alice, 'redrive');
    await axe(alice, 'redrive dialog');
    await dialog.getByRole('button', { name: 'Redrive' }).click();
    await expect.poll(() => alice.getByRole('status').textContent()).toBe('Redriven: 2.');
    for (const id of dead) {
      const ev = (await (
        await fetch(`${cluster.apiUrl}/console/api/jobs/${id}/events`, {
          headers: { authorization: `Bearer ${ALICE}` },
        })
      ).json()) as { events: { reason: string }[] };
      expect(ev.events.map((e) => e.reason)).toContain('retry_requested');
    }
  });

  it('shows queues with depth and last-hour outcomes, and says when alerts are not configured', async () => {
    await alice.goto(`${cluster.apiUrl}/console#/queues`);
    const row = alice.locator('tr[data-queue="default"]');
    await row.waitFor();
    await expect
      .poll(async () => Number(await row.locator('td').nth(4).textContent()))
      .toBeGreaterThanOrEqual(2);
    await shot(alice, 'queues');
    await axe(alice, 'queues');
    await alice.goto(`${cluster.apiUrl}/console#/alerts`);
    await alice.getByText(/Prometheus is not configured/).waitFor();
  });

  it("keeps tenants apart: bob sees none of alice's jobs, the admin key sees everyone's", async () => {
    const bob = await open(BOB, 'bob');
    await bob.getByText('No jobs match.').waitFor();
    const hidden: string[] = [];
    bob.on('console', (m) => {
      if (m.type() === 'error') hidden.push(m.text());
    });
    await bob.goto(`${cluster.apiUrl}/console#/jobs/${sleepId}`);
    await expect.poll(() => bob.getByRole('alert').textContent()).toMatch(/JOB\.NOT_FOUND/);
    const admin = await open(ADMIN, 'admin');
    expect(await admin.getByTestId('who').textContent()).toBe('admin (every client)');
    await admin.locator(`tr[data-job-id="${sleepId}"]`).waitFor();
    expect(await admin.getByTestId('jobs-table').textContent()).toContain('alice');
    // Chromium logs the expected 404s of bob's reads as console errors: exactly those, nothing else.
    expect(hidden.length).toBeGreaterThan(0);
    const expected = (e: string) =>
      e.startsWith('bob: Failed to load resource: the server responded with a status of 404');
    const unexpected = consoleErrors.filter((e) => !expected(e));
    expect(unexpected).toEqual([]);
    consoleErrors.length = 0;
  });

  it('logged no console error and no uncaught exception on any page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
