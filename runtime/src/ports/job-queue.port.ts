/**
 * The queue (BullMQ behind an adapter). Publishing is idempotent: the queue job id is derived
 * from the job id, so re-publishing an existing message is a no-op.
 */
export type QueueMessageKind = 'run' | 'aggregate';

export interface QueueMessage {
  readonly jobId: string;
  readonly queue: string;
  readonly kind: QueueMessageKind;
  /** Set for `aggregate`: the parent's attempt whose children finished. */
  readonly attempt: number;
  readonly priority: number;
  /** Earliest start. */
  readonly runAt: Date;
  readonly requestId: string | null;
  /** True when an older message with the same id may linger in the queue's finished sets. */
  readonly replace: boolean;
  /** Flow control (docs/flow-control.md): the job's type and client, and its resolved slot set. */
  readonly type?: string;
  readonly clientId?: string;
  readonly flowKey?: string;
  readonly flowLimit?: number;
  /** W3C trace context stored with the job (tracing); the publish span is its child. */
  readonly traceparent?: string | null;
}

/** What the queue knows about one message. */
export type QueueMessageState =
  | { readonly present: false }
  | { readonly present: true; readonly finished: false }
  | { readonly present: true; readonly finished: true; readonly failedReason: string | null };

export interface JobQueue {
  publish(messages: readonly QueueMessage[]): Promise<void>;
  inspect(queue: string, kind: QueueMessageKind, jobId: string, attempt: number): Promise<QueueMessageState>;
  /** Best-effort removal of a waiting message (cancel). */
  discard(queue: string, jobId: string): Promise<void>;
}
