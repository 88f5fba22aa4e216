import { listen } from '../adapters/postgres/pg-pool.js';
import { createReconciler } from '../application/reconcile.use-case.js';
import { createRelayOutbox } from '../application/relay-outbox.use-case.js';
import type { Core } from './context.js';
import { startEventsLoop } from './events-loop.js';

export interface RelayLoop {
  stop(): Promise<void>;
  /** Runs one relay pass now (tests, shutdown flush). */
  kick(): void;
}

/**
 * The outbox relay (woken by LISTEN/NOTIFY, polling every RELAY_POLL_MS as the fallback) and the
 * reconciler (every RECONCILE_INTERVAL_SECONDS). Passes never overlap.
 */
export async function startRelayLoop(core: Core): Promise<RelayLoop> {
  const { config, logger } = core;
  const relay = createRelayOutbox({ store: core.store, queue: core.queue, logger, metrics: core.metrics });
  const reconcile = createReconciler({
    store: core.store,
    queue: core.queue,
    logger,
    // A job is only "missing" once the relay and the workers had time to act on it.
    graceMs: Math.max(config.RECONCILE_GRACE_MS, config.RELAY_POLL_MS * 2),
  });
  let stopped = false;
  let again = false;
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  const kick = () => {
    again = true;
    wake?.();
  };

  const unlisten = await listen(
    { connectionString: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, max: 1 },
    'jobplane_outbox',
    kick,
    1000,
    config.DATABASE_SCHEMA, // the trigger's payload: wake only for this installation's outbox
  ).catch((err: unknown) => {
    logger.warn({ err }, 'LISTEN failed; relying on polling');
    return async () => undefined;
  });

  const relayLoop = (async () => {
    while (!stopped) {
      again = false;
      try {
        await relay();
        // No gauge query here: /metrics reads the outbox depth when it is scraped (main/edge.ts).
      } catch (err) {
        logger.error({ err }, 'outbox relay pass failed; retrying');
      }
      if (stopped) break;
      if (again) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, config.RELAY_POLL_MS);
      });
      wake = null;
      if (timer) clearTimeout(timer);
    }
  })();

  let reconcileTimer: NodeJS.Timeout | null = null;
  let reconciling: Promise<unknown> = Promise.resolve();
  const scheduleReconcile = () => {
    reconcileTimer = setTimeout(() => {
      reconciling = reconcile()
        .catch((err: unknown) => logger.error({ err }, 'reconciler pass failed'))
        .finally(() => {
          if (!stopped) scheduleReconcile();
        });
    }, config.RECONCILE_INTERVAL_SECONDS * 1000);
  };
  scheduleReconcile();
  // Lifecycle events out of the platform: NATS JetStream and webhooks (docs/events.md).
  const events = await startEventsLoop(core);

  return {
    kick,
    async stop() {
      stopped = true;
      wake?.();
      if (reconcileTimer) clearTimeout(reconcileTimer);
      await relayLoop;
      await reconciling;
      await events.stop();
      await unlisten();
    },
  };
}
