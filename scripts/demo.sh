#!/usr/bin/env bash
# make demo: submits example jobs to a running dev stack (make dev-local) and follows them:
# six demo.sleep jobs (one is set up to dead-letter) and a backtest.sweep over the S&P 500.
set -euo pipefail
# JP_API_URL / JP_API_KEY: the client's variables (also read by `jobplane list|watch|top`); the
# server's configuration refuses unknown JOBPLANE_* names, so the demo uses none.
export JP_API_URL="${JP_API_URL:-http://127.0.0.1:${PORT:-8080}}"
export JP_API_KEY="${JP_API_KEY:-${DEV_API_KEY:-dev-local-key-0123456789abcdef}}"

exec node --input-type=module - <<'JS'
const base = process.env.JP_API_URL;
const headers = { authorization: `Bearer ${process.env.JP_API_KEY}`, 'content-type': 'application/json' };
const run = Date.now().toString(36);

async function call(method, path, body, extra = {}) {
  const res = await fetch(`${base}${path}`, { method, headers: { ...headers, ...extra }, body: body && JSON.stringify(body) });
  const json = await res.json();
  if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status} ${json.code}: ${json.detail}`);
  return json;
}

try {
  await fetch(`${base}/readyz`);
} catch {
  console.error(`no API at ${base}: start one with 'make dev-local'`);
  process.exit(1);
}

const submitted = [];
const sleeps = [
  { durationMs: 500 }, { durationMs: 1500 }, { durationMs: 3000 },
  { durationMs: 800, failureRate: 0.5, seed: 4 }, { durationMs: 800, failureRate: 0.5, seed: 11 },
  { durationMs: 300, failureRate: 1 },
];
for (const [i, payload] of sleeps.entries()) {
  const { job } = await call('POST', '/v1/jobs', { type: 'demo.sleep', payload }, { 'idempotency-key': `demo-${run}-${i}` });
  submitted.push(job);
}
const sweep = {
  type: 'backtest.sweep',
  payload: { series: { kind: 'sp500', from: '1950-01' }, grid: { fast: { from: 2, to: 12, step: 1 }, slow: { from: 10, to: 60, step: 5 } }, chunkSize: 10, top: 5 },
};
const { job: sweepJob } = await call('POST', '/v1/jobs', sweep, { 'idempotency-key': `demo-${run}-sweep` });
submitted.push(sweepJob);
console.log(`submitted ${submitted.length} jobs (run ${run})\n`);

const short = (s) => s.replace('JOB_STATE_', '').toLowerCase();
const terminal = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_DEAD_LETTERED', 'JOB_STATE_CANCELLED']);
let jobs = submitted;
for (let tick = 0; tick < 240; tick++) {
  jobs = await Promise.all(submitted.map(async (j) => (await call('GET', `/v1/jobs/${j.id}`)).job));
  const line = jobs
    .map((j) => `${j.type === 'demo.sleep' ? 'sleep' : 'sweep'}:${short(j.state)}${j.progress?.percent ? ` ${j.progress.percent}%` : ''}${j.attempts > 1 ? ` (attempt ${j.attempts})` : ''}`)
    .join(' | ');
  console.log(line);
  if (jobs.every((j) => terminal.has(j.state))) break;
  await new Promise((r) => setTimeout(r, 500));
}

console.log('\nresults:');
for (const j of jobs.filter((j) => j.type === 'demo.sleep')) {
  console.log(`  ${j.id}  ${short(j.state).padEnd(13)} attempts ${j.attempts}  ${j.error ? `${j.error.code}: ${j.error.message}` : JSON.stringify(j.result)}`);
}
const s = jobs.find((j) => j.type === 'backtest.sweep');
const children = (await call('GET', `/v1/jobs?type=backtest.chunk&pageSize=200`)).jobs.filter((c) => c.parentId === s.id);
console.log(`\nbacktest.sweep ${s.id}: ${short(s.state)}, ${children.length} child jobs`);
if (s.result) {
  console.log(JSON.stringify(s.result, null, 2).split('\n').slice(0, 40).join('\n'));
}
const events = (await call('GET', `/v1/jobs/${submitted[5].id}/events`)).events;
console.log(`\nhistory of the job that always fails:`);
for (const e of events) console.log(`  ${short(e.fromState ?? 'JOB_STATE_-')} → ${short(e.toState)}  (${e.reason}, attempt ${e.attempt ?? 0})`);
console.log(`\nsee them in the console: ${base}/console (sign in with the API key ${process.env.JP_API_KEY})`);
console.log(`  the sweep's heatmap and equity curve: ${base}/console#/jobs/${s.id}`);
console.log(`  dead letters (redrive): ${base}/console#/dead-letters`);
JS
