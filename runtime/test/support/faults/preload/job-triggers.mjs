// Test-only preload for `jobplane worker` children (node --import <this file>), never shipped.
//
// demo.sleep has no way to crash or freeze its process, and the runtime must not grow test hooks,
// so the fault suite injects those two faults from outside the handler: it wraps pg's
// Client#query and watches for the job ids listed in the JSON file named by FAULTS_TRIGGER_FILE:
//   {"crash": ["<job id>", ...], "block": ["<job id>", ...], "blockMs": 5000, "blockAfterMs": 200}
// - crash: once a query has started an attempt of the job (returned its row running with the new
//   attempt token; a batched start carries ids and tokens as array parameters), the process is SIGKILLed 200 ms later, while the handler runs: a job that
//   crashes its worker on every attempt. A delivery that starts no attempt (the store dead-letters
//   the job, its budget spent) does not crash: that crash would be no attempt, and each extra crash
//   charges the bystanders on that worker one more lost attempt.
// - block: blockAfterMs (default 200) after the attempt started, the event loop is busy-waited for blockMs, so the
//   BullMQ lock cannot be renewed: a job that outlives its lock with a blocked event loop.
//   Only the first worker to touch the job blocks (a marker file next to the trigger file), so the
//   worker that takes the job over runs it normally.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import pg from 'pg';

const file = process.env.FAULTS_TRIGGER_FILE;
let cache = { mtimeMs: -1, crash: new Set(), block: new Set(), blockMs: 0, blockAfterMs: 200 };
function triggers() {
  if (!file) return cache;
  try {
    const { mtimeMs } = statSync(file);
    if (mtimeMs !== cache.mtimeMs) {
      const t = JSON.parse(readFileSync(file, 'utf8'));
      cache = {
        mtimeMs,
        crash: new Set(t.crash ?? []),
        block: new Set(t.block ?? []),
        blockMs: t.blockMs ?? 0,
        blockAfterMs: t.blockAfterMs ?? 200,
      };
    }
  } catch {
    // file missing or half-written: keep the previous triggers
  }
  return cache;
}

const blocked = new Set();
let crashing = false;
/**
 * Whether the query started an attempt of job `id`: it returned the job's row running with the
 * attempt token it was given (the store's UPDATE … RETURNING of an attempt start). Reading the row
 * of a still-running job (SELECT … FOR UPDATE before a take-over or a dead-letter) is not a start.
 */
function started(res, id, params) {
  const rows = res && Array.isArray(res.rows) ? res.rows : [];
  return rows.some((r) => r && r.id === id && r.state === 'running' && params.includes(r.attempt_token));
}

function fire(params, res) {
  if (!Array.isArray(params)) return;
  // A batched attempt start (group commit) passes the ids and tokens as array parameters.
  const values = params.flatMap((p) => (Array.isArray(p) ? p : [p]));
  const t = triggers();
  for (const v of values) {
    if (typeof v !== 'string') continue;
    if (t.crash.has(v) && !crashing && started(res, v, values)) {
      crashing = true;
      process.stderr.write(`[job-triggers] crashing on job ${v}\n`);
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 200);
    }
    if (t.block.has(v) && !blocked.has(v) && started(res, v, values)) {
      blocked.add(v);
      try {
        writeFileSync(`${file}.blocked-${v}`, String(process.pid), { flag: 'wx' });
      } catch {
        continue; // another worker already blocked on this job
      }
      setTimeout(() => {
        process.stderr.write(`[job-triggers] blocking the event loop ${t.blockMs} ms on job ${v}\n`);
        const until = Date.now() + t.blockMs;
        while (Date.now() < until) {
          // busy-wait: nothing else runs, not even lock renewal
        }
        process.stderr.write(`[job-triggers] event loop released (job ${v})\n`);
      }, t.blockAfterMs);
    }
  }
}

const original = pg.Client.prototype.query;
// pg-pool calls client.query(text, values, callback): wrap the callback as well as the promise.
pg.Client.prototype.query = function patchedQuery(config, values, callback) {
  const params = Array.isArray(values)
    ? values
    : config && typeof config === 'object'
      ? config.values
      : undefined;
  if (typeof values === 'function') {
    const cb = values;
    values = (err, res) => {
      if (!err) fire(params, res);
      return cb(err, res);
    };
  } else if (typeof callback === 'function') {
    const cb = callback;
    callback = (err, res) => {
      if (!err) fire(params, res);
      return cb(err, res);
    };
  }
  const result = original.call(this, config, values, callback);
  if (result && typeof result.then === 'function') {
    result.then(
      (res) => fire(params, res),
      () => undefined,
    );
  }
  return result;
};
