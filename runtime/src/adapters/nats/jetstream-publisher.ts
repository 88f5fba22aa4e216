import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface JetStreamOptions {
  /** Comma-separated `nats://host:port` URLs. */
  readonly servers: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly duplicateWindowSeconds: number;
  /** Time to wait for each publish acknowledgement. */
  readonly ackTimeoutMs?: number;
  readonly onStatus?: (msg: string) => void;
}

/**
 * Publishes CloudEvents to a JetStream stream, creating it (subjects `<prefix>.>`, file storage,
 * the given de-duplication window) when missing. The connection reconnects forever; a publish
 * while NATS is away fails (the caller retries from that event).
 */
export class JetStreamPublisher {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly opts: JetStreamOptions,
  ) {}

  static async connect(opts: JetStreamOptions): Promise<JetStreamPublisher> {
    const nc = await connect({
      servers: opts.servers.split(',').map((s) => s.trim()),
      name: 'jobplane-relay-events',
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    if (opts.onStatus) {
      const onStatus = opts.onStatus;
      void (async () => {
        for await (const s of nc.status()) onStatus(s.type);
      })().catch(() => undefined);
    }
    const publisher = new JetStreamPublisher(nc, jetstream(nc, { timeout: opts.ackTimeoutMs ?? 5000 }), opts);
    try {
      await publisher.ensureStream();
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
    return publisher;
  }

  /** Creates the stream if it does not exist (an existing stream's config is left as it is). */
  async ensureStream(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    try {
      await jsm.streams.info(this.opts.stream);
    } catch (err) {
      if (!/not found/i.test(String((err as Error).message))) throw err;
      await jsm.streams.add({
        name: this.opts.stream,
        subjects: [`${this.opts.subjectPrefix}.>`],
        duplicate_window: this.opts.duplicateWindowSeconds * 1_000_000_000,
      });
    }
  }

  subjectOf(topic: string): string {
    return `${this.opts.subjectPrefix}.${topic}`;
  }

  /** Publishes one event with `Nats-Msg-Id` = its id; resolves on the stream's acknowledgement. */
  async publish(topic: string, eventId: string, body: string): Promise<{ duplicate: boolean; seq: number }> {
    const ack = await this.js.publish(this.subjectOf(topic), body, { msgID: eventId });
    return { duplicate: ack.duplicate, seq: ack.seq };
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}
