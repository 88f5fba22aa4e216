#!/usr/bin/env node
// Checked-in shim so `npm ci` can link the `jobplane` bin before the first build; the CLI itself
// is compiled TypeScript (src/main/cli.ts → dist/main/cli.js). Client commands (list, get, submit…)
// load only the HTTP client (src/main/client/main.ts), not the server. Server commands load the
// OpenTelemetry instrumentation module first (src/main/instrument.ts: a no-op without an OTLP
// endpoint), before the CLI imports pg, ioredis and fastify; `node --import` of the same module
// does the same for entry points that bypass this shim (the container image).
import process from 'node:process';

const CLIENT_COMMANDS = new Set(['list', 'get', 'submit', 'cancel', 'retry', 'events', 'watch', 'top']);
if (CLIENT_COMMANDS.has(process.argv[2] ?? '')) await import('../dist/main/client/main.js');
else {
  await import('../dist/main/instrument.js');
  await import('../dist/main/cli.js');
}
