import { DomainError, invalidRequest } from '../domain/errors.js';
import {
  EVENT_TYPES,
  generateSecret,
  MAX_SUBSCRIPTIONS_PER_CLIENT,
  normalizeSecret,
  type DeliveryLogEntry,
  type NewSubscription,
  type Subscription,
} from '../domain/events.js';

/** What the commands need from the event store (adapters/postgres/event-store.ts). */
export interface SubscriptionStore {
  countSubscriptions(clientId: string): Promise<number>;
  createSubscription(s: NewSubscription): Promise<Subscription>;
  getSubscription(clientId: string, id: string): Promise<Subscription | null>;
  listSubscriptions(clientId: string): Promise<Subscription[]>;
  deleteSubscription(clientId: string, id: string): Promise<boolean>;
  enableSubscription(clientId: string, id: string): Promise<Subscription | null>;
  listDeliveryLog(
    subscriptionId: string,
    limit: number,
    beforeId: string | null,
  ): Promise<DeliveryLogEntry[]>;
}

/** Checks a URL against the SSRF rules; throws a message naming the field when refused. */
export type UrlCheck = (url: string, field: string) => Promise<void>;

export interface CreateSubscriptionInput {
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly secret: string;
  readonly description: string;
}

export interface SubscriptionCommands {
  create(
    clientId: string,
    input: CreateSubscriptionInput,
  ): Promise<{ subscription: Subscription; secret: string }>;
  get(clientId: string, id: string): Promise<Subscription>;
  list(clientId: string): Promise<Subscription[]>;
  delete(clientId: string, id: string): Promise<void>;
  enable(clientId: string, id: string): Promise<Subscription>;
  deliveries(
    clientId: string,
    id: string,
    pageSize: number,
    pageToken: string,
  ): Promise<{ items: DeliveryLogEntry[]; nextPageToken: string }>;
}

const MAX_BIGINT = 9223372036854775807n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = (id: string) => new DomainError('SUBSCRIPTION.NOT_FOUND', `subscription '${id}' not found`);

export function createSubscriptionCommands(
  store: SubscriptionStore,
  checkUrl: UrlCheck,
): SubscriptionCommands {
  const find = async (clientId: string, id: string): Promise<Subscription> => {
    if (!UUID.test(id)) throw notFound(id);
    const s = await store.getSubscription(clientId, id);
    if (!s) throw notFound(id);
    return s;
  };
  return {
    async create(clientId, input) {
      const problems: string[] = [];
      if (input.url.length > 2048) problems.push(`'url' must be at most 2048 characters`);
      const unknown = input.eventTypes.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
      if (unknown.length > 0)
        problems.push(
          `'eventTypes': unknown event type(s) ${unknown.join(', ')} (known: ${EVENT_TYPES.join(', ')})`,
        );
      if (input.description.length > 500) problems.push(`'description' must be at most 500 characters`);
      let secret = generateSecret();
      if (input.secret !== '') {
        const n = normalizeSecret(input.secret);
        if ('error' in n) problems.push(n.error);
        else secret = n.secret;
      }
      if (problems.length > 0) throw invalidRequest(problems.join('; '), problems);
      await checkUrl(input.url, 'url');
      if ((await store.countSubscriptions(clientId)) >= MAX_SUBSCRIPTIONS_PER_CLIENT) {
        throw new DomainError(
          'SUBSCRIPTION.LIMIT_REACHED',
          `client already has ${MAX_SUBSCRIPTIONS_PER_CLIENT} subscriptions; delete one first`,
        );
      }
      const subscription = await store.createSubscription({
        clientId,
        url: input.url,
        eventTypes: [...new Set(input.eventTypes)],
        secret,
        description: input.description,
      });
      return { subscription, secret };
    },
    get: find,
    list: (clientId) => store.listSubscriptions(clientId),
    async delete(clientId, id) {
      if (!UUID.test(id) || !(await store.deleteSubscription(clientId, id))) throw notFound(id);
    },
    async enable(clientId, id) {
      if (!UUID.test(id)) throw notFound(id);
      const s = await store.enableSubscription(clientId, id);
      if (!s) throw notFound(id);
      return s;
    },
    async deliveries(clientId, id, pageSize, pageToken) {
      if (pageSize < 0 || pageSize > 200) throw invalidRequest(`'pageSize' (${pageSize}) must be 1 to 200`);
      if (pageToken !== '' && !(/^[1-9]\d{0,18}$/.test(pageToken) && BigInt(pageToken) <= MAX_BIGINT))
        throw invalidRequest(`'pageToken' is not a token this API issued`);
      await find(clientId, id);
      const size = pageSize || 50;
      const rows = await store.listDeliveryLog(id, size + 1, pageToken || null);
      const items = rows.slice(0, size);
      return { items, nextPageToken: rows.length > size ? items[items.length - 1]!.id : '' };
    },
  };
}
