#!/usr/bin/env node
/**
 * `jobplane <migrate|api|worker|relay|run-one|launcher>`: the one entry point of the container image.
 * Reads the environment once (config schema), builds the adapters, runs the command.
 */
import { CatalogLoadError, JobTypeDefinitionError } from '@jobplane/sdk';
import {
  checkConfigAgainstCatalog,
  ConfigError,
  JOBPLANE_COMMANDS,
  loadConfig,
  type JobplaneCommand,
} from '../config/schema.js';
import { catalogSpecifier, loadRuntimeCatalog, parseArgs, type Catalog } from './catalog.js';
import { buildCore, onShutdownSignal } from './context.js';
import { runApi } from './api.js';
import { runMigrate } from './migrate.js';
import { startRelayLoop } from './relay-loop.js';
import { RUN_ONE_EXIT, runOne, runWorker } from './worker.js';
import { runLauncher } from './launcher.js';
import { startHealthServer } from '../adapters/http/health-server.js';
import { redisPolicyProblem } from '../adapters/bullmq/redis.js';
import { withEdgeMetrics } from './edge.js';
import { startScheduler } from './scheduler.js';
import { CLIENT_COMMANDS, CLIENT_USAGE, type ClientCommand } from './client/commands.js';
import { shutdownTracing } from '../adapters/tracing/tracing.js';

const USAGE = `usage: jobplane <command> [--catalog <module>]

commands:
  migrate   apply database migrations to DATABASE_SCHEMA (idempotent) and exit
  api       serve the HTTP API on PORT (plus the outbox relay when RELAY_IN_PROCESS=true)
  worker    consume WORKER_QUEUES (default: every pooled queue); health and metrics on METRICS_PORT
  relay     publish the outbox to the queues, reconcile PostgreSQL with Redis, and fire
            schedules (SCHEDULER_ENABLED)
  launcher  run the container job types as Kubernetes Jobs (one leader among replicas):
              create one Job per attempt, watch Jobs and Pods, reconcile; health on METRICS_PORT
  run-one   run exactly one job from RUN_ONE_QUEUE and exit:
              0 succeeded (or nothing left to do), 1 failed and will be retried,
              2 bad configuration, 3 no job within RUN_ONE_WAIT_SECONDS, 4 dead-lettered

--catalog <module>  the job-type catalog (api, worker, relay, run-one): a module path or package
                    whose default export is defineCatalog(...) of @jobplane/sdk; default
                    JOBPLANE_CATALOG. Handlers are imported by workers only, on first use.

Other configuration comes from environment variables; see docs/runtime.md.

${CLIENT_USAGE}`;

async function main(args: string[]): Promise<number> {
  const parsedArgs = parseArgs(args);
  if (parsedArgs.problem) {
    process.stderr.write(`jobplane: ${parsedArgs.problem}\n\n${USAGE}\n`);
    return 2;
  }
  const argv = parsedArgs.rest;
  const cmd = argv[0];
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return cmd ? 0 : 2;
  }
  if ((CLIENT_COMMANDS as readonly string[]).includes(cmd)) {
    const { runClient } = await import('./client/commands.js');
    return runClient(cmd as ClientCommand, argv.slice(1));
  }
  if (!(JOBPLANE_COMMANDS as readonly string[]).includes(cmd)) {
    process.stderr.write(`jobplane: unknown command '${cmd}'\n\n${USAGE}\n`);
    return 2;
  }
  const command = cmd as JobplaneCommand;
  let config;
  try {
    config = loadConfig(process.env, command);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`jobplane ${command}: ${err.message}\n`);
      return RUN_ONE_EXIT.badConfig;
    }
    throw err;
  }
  if (command === 'migrate') {
    await runMigrate(config);
    return 0;
  }
  let catalog: Catalog;
  try {
    catalog = await loadRuntimeCatalog(catalogSpecifier(parsedArgs.catalog, config.JOBPLANE_CATALOG));
    checkConfigAgainstCatalog(config, catalog);
  } catch (err) {
    if (
      err instanceof CatalogLoadError ||
      err instanceof JobTypeDefinitionError ||
      err instanceof ConfigError
    ) {
      process.stderr.write(`jobplane ${command}: ${err.message}\n`);
      return RUN_ONE_EXIT.badConfig;
    }
    throw err;
  }
  const core = withEdgeMetrics(buildCore(config, command, { catalog }), command);
  const log = core.logger;
  try {
    // A Redis that may evict keys silently loses queued jobs: refuse to start on one.
    const policy = await redisPolicyProblem(core.redis);
    if (policy) {
      log.fatal({ reason: policy }, 'refusing to start');
      return 1;
    }
    if (command === 'api') {
      const api = await runApi(core);
      const sig = await onShutdownSignal();
      log.info({ signal: sig }, 'shutting down');
      await api.stop();
      return 0;
    }
    if (command === 'worker') {
      const worker = await runWorker(core);
      const sig = await onShutdownSignal();
      log.info({ signal: sig }, 'shutting down');
      await worker.drain();
      return 0;
    }
    if (command === 'relay') {
      let accepting = true;
      const relay = await startRelayLoop(core);
      const scheduler = config.SCHEDULER_ENABLED ? startScheduler(core) : null;
      const health = await startHealthServer({
        host: config.HOST,
        port: config.METRICS_PORT,
        checks: core.health,
        metrics: core.metrics,
        isAccepting: () => accepting,
      });
      log.info(
        {
          pollMs: config.RELAY_POLL_MS,
          reconcileSeconds: config.RECONCILE_INTERVAL_SECONDS,
          catalog: catalog.name,
        },
        'relay started',
      );
      const sig = await onShutdownSignal();
      accepting = false;
      log.info({ signal: sig }, 'shutting down');
      await scheduler?.stop();
      await relay.stop();
      await new Promise<void>((resolve) => health.close(() => resolve()));
      return 0;
    }
    if (command === 'launcher') {
      const launcher = await runLauncher(core);
      const sig = await onShutdownSignal();
      log.info({ signal: sig }, 'shutting down');
      await launcher.stop();
      return 0;
    }
    return await runOne(core);
  } finally {
    await core.close();
    // Last: the spans of the drain itself are flushed too (a no-op when tracing is off).
    await shutdownTracing();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Lingering sockets must not keep a finished command alive.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (err: unknown) => {
    process.stderr.write(`jobplane: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
