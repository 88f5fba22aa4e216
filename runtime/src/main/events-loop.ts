import { JetStreamPublisher } from '../adapters/nats/jetstream-publisher.js';
import { PostgresEventStore } from '../adapters/postgres/event-store.js';
import { listen } from '../adapters/postgres/pg-pool.js';
import { sendWebhook } from '../adapters/webhooks/delivery-client.js';
import { checkTarget, parseAllowedCidrs, UrlRefused } from '../adapters/webhooks/ssrf.js';
import { lookup } from 'node:dns/promises';
import { DomainError } from '../domain/errors.js';
import {
  createSubscriptionCommands,
  type SubscriptionCommands,
} from '../application/subscription-commands.js';
import { createNatsPass, createWebhookPass } from '../application/deliver-events.use-case.js';
import type { Core } from './context.js';

export interface EventsLoop {
  stop(): Promise<void>;
  kick(): void;
}

export interface EventsLoopOptions {
  /** Jitter source of the webhook backoff (tests pass a seeded one). */
  readonly random?: () => number;
}

/** Finished deliveries and their log are kept this many days. */
const DELIVERY_RETENTION_DAYS = 7;

/**
 * Lifecycle events out of the platform (docs/events.md), in the relay process: the NATS
 * JetStream publisher (when NATS_URL is set) and the webhook deliverer. Woken by LISTEN
 * jobplane_events, polling every RELAY_POLL_MS as the fallback; passes never overlap.
 */
export async function startEventsLoop(core: Core, opts: EventsLoopOptions = {}): Promise<EventsLoop> {
  const { config, logger } = core;
  const store = new PostgresEventStore(core.pool);
  const natsConfigured = config.NATS_URL !== undefined;
  // Without NATS_URL the trigger keeps no events for NATS (and pending ones are dropped). Set at
  // the first pass that reaches PostgreSQL (the relay starts even while it is down).
  let sinkSet = false;
  const recordSink = async () => {
    try {
      await store.setNatsSink(natsConfigured);
      sinkSet = true;
    } catch (err) {
      logger.warn({ err }, 'could not record the NATS event sink setting; retrying');
    }
  };
  await recordSink();

  let publisher: JetStreamPublisher | null = null;
  let connecting: Promise<void> | null = null;
  const ensurePublisher = (): Promise<void> => {
    if (publisher || !config.NATS_URL) return Promise.resolve();
    connecting ??= JetStreamPublisher.connect({
      servers: config.NATS_URL,
      stream: config.NATS_STREAM,
      subjectPrefix: config.NATS_SUBJECT_PREFIX,
      duplicateWindowSeconds: config.NATS_DUPLICATE_WINDOW_SECONDS,
      onStatus: (s) => logger.info({ status: s }, 'NATS connection status'),
    })
      .then((p) => {
        publisher = p;
        logger.info({ stream: config.NATS_STREAM }, 'publishing lifecycle events to NATS JetStream');
      })
      .finally(() => {
        connecting = null;
      });
    return connecting;
  };

  const allowed = parseAllowedCidrs(config.WEBHOOK_DELIVERY_ALLOWED_CIDRS);
  const clientOpts = {
    allowed,
    connectTimeoutMs: config.WEBHOOK_DELIVERY_CONNECT_TIMEOUT_MS,
    responseTimeoutMs: config.WEBHOOK_DELIVERY_RESPONSE_TIMEOUT_MS,
    maxResponseBytes: config.WEBHOOK_DELIVERY_MAX_RESPONSE_BYTES,
  };
  const webhookPass = createWebhookPass({
    store,
    send: (d, now) =>
      sendWebhook(
        { url: d.url, secret: d.secret, id: d.eventId, body: JSON.stringify(d.event), now },
        clientOpts,
      ),
    backoff: {
      baseMs: config.WEBHOOK_DELIVERY_RETRY_BASE_MS,
      maxDelayMs: config.WEBHOOK_DELIVERY_RETRY_MAX_DELAY_MS,
      giveUpSeconds: config.WEBHOOK_DELIVERY_GIVE_UP_SECONDS,
    },
    concurrency: config.WEBHOOK_DELIVERY_CONCURRENCY,
    // A relay that dies mid-delivery: another one retries once the lease runs out.
    leaseMs:
      config.WEBHOOK_DELIVERY_CONNECT_TIMEOUT_MS + config.WEBHOOK_DELIVERY_RESPONSE_TIMEOUT_MS + 30_000,
    logger,
    ...(opts.random ? { random: opts.random } : {}),
  });

  let stopped = false;
  /**
   * A loop running `pass` until stopped: again at once when the pass asks for it or a
   * notification arrived meanwhile, else after RELAY_POLL_MS or the next notification.
   */
  const runLoop = (pass: () => Promise<boolean>) => {
    let again = false;
    let wake: (() => void) | null = null;
    const kick = () => {
      again = true;
      wake?.();
    };
    const done = (async () => {
      while (!stopped) {
        again = false;
        if (await pass()) again = true;
        if (stopped) break;
        if (again) continue;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, config.RELAY_POLL_MS);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
    })();
    return { kick, done, wake: () => wake?.() };
  };

  let lastPrune = 0;
  let lastNatsWarn = 0;
  // NATS and webhooks run apart: a slow receiver never holds up the stream.
  const natsLoop = runLoop(async () => {
    if (!sinkSet) await recordSink();
    if (!natsConfigured) return false;
    try {
      await ensurePublisher();
      if (publisher) await createNatsPass(store, publisher)();
    } catch (err) {
      // NATS down: a pass fails every RELAY_POLL_MS; say so every 10 s at most.
      if (Date.now() - lastNatsWarn > 10_000) {
        lastNatsWarn = Date.now();
        logger.warn({ err }, 'NATS event pass failed; retrying from the failed event');
      }
    }
    return false;
  });
  const webhookLoop = runLoop(async () => {
    try {
      if (Date.now() - lastPrune > 3_600_000) {
        lastPrune = Date.now();
        await store.pruneDeliveries(DELIVERY_RETENTION_DAYS);
      }
      // A full batch means more may be due: go again at once.
      return (await webhookPass()) >= config.WEBHOOK_DELIVERY_CONCURRENCY;
    } catch (err) {
      logger.warn({ err }, 'webhook delivery pass failed; retrying');
      return false;
    }
  });
  const kick = () => {
    natsLoop.kick();
    webhookLoop.kick();
  };
  const unlisten = await listen(
    { connectionString: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, max: 1 },
    'jobplane_events',
    kick,
  ).catch((err: unknown) => {
    logger.warn({ err }, 'LISTEN jobplane_events failed; relying on polling');
    return async () => undefined;
  });

  return {
    kick,
    async stop() {
      stopped = true;
      natsLoop.wake();
      webhookLoop.wake();
      await Promise.all([natsLoop.done, webhookLoop.done]);
      await unlisten();
      await connecting?.catch(() => undefined);
      await (publisher as JetStreamPublisher | null)?.close();
    },
  };
}

/** How long the API waits for DNS when it checks a subscription URL. */
const URL_CHECK_DNS_TIMEOUT_MS = 3000;

/** The /v1/subscriptions commands: the event store, and the SSRF check of every URL (ssrf.ts). */
export function subscriptionCommandsOf(core: Core): SubscriptionCommands {
  const allowed = parseAllowedCidrs(core.config.WEBHOOK_DELIVERY_ALLOWED_CIDRS);
  const resolve = (host: string) =>
    Promise.race([
      lookup(host, { all: true, verbatim: true }),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(Object.assign(new Error('DNS timeout'), { code: 'ETIMEOUT' })),
          URL_CHECK_DNS_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
  return createSubscriptionCommands(new PostgresEventStore(core.pool), async (url, field) => {
    try {
      await checkTarget(url, allowed, field, resolve);
    } catch (err) {
      if (err instanceof UrlRefused)
        throw new DomainError('SUBSCRIPTION.URL_REFUSED', err.message, { problems: [err.message] });
      throw err;
    }
  });
}
