// Test-only preload for `jobplane relay` children (node --import <this file>), never shipped.
//
// Kills the process (SIGKILL) in the middle of a schedule fire: right after the INSERT of the
// FAULTS_SCHEDULE_CRASH_AFTER-th job whose idempotency key starts with `schedule:` came back from
// its INSERT (the job is committed), before the scheduler writes the schedule's new state (its row-lock
// transaction is still open and dies with the connection).
import process from 'node:process';
import pg from 'pg';

const after = Number(process.env.FAULTS_SCHEDULE_CRASH_AFTER ?? '0');
let created = 0;

// The store inserts submissions in groups (one multi-row statement, RETURNING the rows it created;
// a replayed key returns no row), so count the returned rows whose key is a schedule's.
function check(text, params, res) {
  if (after <= 0 || typeof text !== 'string' || !text.includes('INSERT INTO jobs')) return;
  if (!res || !Array.isArray(res.rows)) return;
  for (const row of res.rows) {
    const key = row.idempotency_key;
    if (typeof key !== 'string' || !key.startsWith('schedule:')) continue;
    created++;
    if (created === after) {
      process.stderr.write(`[schedule-crash] SIGKILL after job ${row.id} (${key})\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  }
}

const original = pg.Client.prototype.query;
pg.Client.prototype.query = function patchedQuery(config, values, callback) {
  const text = typeof config === 'string' ? config : config?.text;
  const params = Array.isArray(values)
    ? values
    : config && typeof config === 'object'
      ? config.values
      : undefined;
  if (typeof values === 'function') {
    const cb = values;
    values = (err, res) => {
      if (!err) check(text, params, res);
      return cb(err, res);
    };
  } else if (typeof callback === 'function') {
    const cb = callback;
    callback = (err, res) => {
      if (!err) check(text, params, res);
      return cb(err, res);
    };
  }
  const result = original.call(this, config, values, callback);
  if (result && typeof result.then === 'function') {
    result.then(
      (res) => check(text, params, res),
      () => undefined,
    );
  }
  return result;
};
