import { create, fromJson, toJson } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  CreateSubscriptionRequestSchema,
  CreateSubscriptionResponseSchema,
  DeleteSubscriptionResponseSchema,
  DeliveryAttemptSchema,
  DeliveryOutcome,
  EnableSubscriptionResponseSchema,
  GetSubscriptionResponseSchema,
  ListDeliveriesRequestSchema,
  ListDeliveriesResponseSchema,
  ListSubscriptionsResponseSchema,
  SubscriptionSchema,
  type DeliveryAttempt as ProtoDeliveryAttempt,
  type Subscription as ProtoSubscription,
} from '@jobplane/proto';
import type { FastifyPluginAsync } from 'fastify';
import type { SubscriptionCommands } from '../../../application/subscription-commands.js';
import type { DeliveryLogEntry, Subscription } from '../../../domain/events.js';
import { problem, sendProblem } from '../problem.js';
import { idOf, objectBody, parse, queryOf } from './proto-input.js';

export function subscriptionToProto(s: Subscription): ProtoSubscription {
  return create(SubscriptionSchema, {
    id: s.id,
    url: s.url,
    eventTypes: s.eventTypes,
    description: s.description,
    enabled: s.enabled,
    disabledReason: s.disabledReason ?? '',
    ...(s.disabledTime ? { disabledTime: timestampFromDate(s.disabledTime) } : {}),
    createTime: timestampFromDate(s.createTime),
    updateTime: timestampFromDate(s.updateTime),
  });
}

function attemptToProto(a: DeliveryLogEntry): ProtoDeliveryAttempt {
  return create(DeliveryAttemptSchema, {
    id: a.id,
    eventId: a.eventId,
    eventType: a.eventType,
    attempt: a.attempt,
    outcome: a.outcome === 'succeeded' ? DeliveryOutcome.SUCCEEDED : DeliveryOutcome.FAILED,
    responseCode: a.responseCode ?? 0,
    durationMs: a.durationMs,
    error: a.error ?? '',
    time: timestampFromDate(a.time),
  });
}

const doc = (summary: string, description?: string) => ({
  summary,
  ...(description ? { description } : {}),
  tags: ['subscriptions'],
  security: [{ bearerAuth: [] }],
});

/**
 * /v1/subscriptions: outgoing webhook subscriptions (docs/events.md). Bodies are the proto3 JSON
 * form of the `jobprocessing.v1` SubscriptionService messages; every route is scoped to the
 * authenticated client.
 */
export const subscriptionRoutes: FastifyPluginAsync<{ commands: SubscriptionCommands }> = async (
  app,
  { commands },
) => {
  app.post(
    '/subscriptions',
    {
      schema: doc(
        'Create a webhook subscription (CreateSubscription)',
        'Answers 201 with the subscription and its signing secret (shown only here). The URL must be http(s) and not resolve to a refused address range (400 SUBSCRIPTION.URL_REFUSED); a secret shorter than 32 bytes is a 400.',
      ),
    },
    async (request, reply) => {
      const body = parse('body is not a valid CreateSubscriptionRequest', () =>
        fromJson(CreateSubscriptionRequestSchema, objectBody(request, 'CreateSubscriptionRequest')),
      );
      const { subscription, secret } = await commands.create(request.clientId, {
        url: body.url,
        eventTypes: body.eventTypes,
        secret: body.secret,
        description: body.description,
      });
      reply.header('location', `/v1/subscriptions/${subscription.id}`);
      return reply.status(201).send(
        toJson(
          CreateSubscriptionResponseSchema,
          create(CreateSubscriptionResponseSchema, {
            subscription: subscriptionToProto(subscription),
            secret,
          }),
        ),
      );
    },
  );

  app.get(
    '/subscriptions',
    { schema: doc('List webhook subscriptions (ListSubscriptions)') },
    async (request) => {
      const items = await commands.list(request.clientId);
      return toJson(
        ListSubscriptionsResponseSchema,
        create(ListSubscriptionsResponseSchema, { subscriptions: items.map(subscriptionToProto) }),
      );
    },
  );

  app.get(
    '/subscriptions/:id',
    { schema: doc('Read a webhook subscription (GetSubscription)') },
    async (request) => {
      const s = await commands.get(request.clientId, idOf(request));
      return toJson(
        GetSubscriptionResponseSchema,
        create(GetSubscriptionResponseSchema, { subscription: subscriptionToProto(s) }),
      );
    },
  );

  app.delete(
    '/subscriptions/:id',
    { schema: doc('Delete a webhook subscription (DeleteSubscription)') },
    async (request) => {
      await commands.delete(request.clientId, idOf(request));
      return toJson(DeleteSubscriptionResponseSchema, create(DeleteSubscriptionResponseSchema, {}));
    },
  );

  app.get(
    '/subscriptions/:id/deliveries',
    {
      schema: doc(
        'The delivery log of a subscription, newest first (ListDeliveries)',
        'One entry per HTTP attempt: outcome, attempt number, response code, duration and error. `pageSize` 1 to 200 (default 50), `pageToken` from the previous page.',
      ),
    },
    async (request) => {
      const req = parse('invalid query', () => fromJson(ListDeliveriesRequestSchema, queryOf(request)));
      const page = await commands.deliveries(request.clientId, idOf(request), req.pageSize, req.pageToken);
      return toJson(
        ListDeliveriesResponseSchema,
        create(ListDeliveriesResponseSchema, {
          deliveries: page.items.map(attemptToProto),
          nextPageToken: page.nextPageToken,
        }),
      );
    },
  );

  // Custom method (AIP-136) `POST /v1/subscriptions/{id}:enable`.
  app.post(
    '/subscriptions/:target',
    {
      schema: doc(
        'Enable a disabled subscription: POST /v1/subscriptions/{id}:enable (EnableSubscription)',
        'Its pending deliveries are retried at once.',
      ),
    },
    async (request, reply) => {
      const target = (request.params as { target: string }).target;
      const sep = target.lastIndexOf(':');
      const id = sep > 0 ? target.slice(0, sep) : target;
      const verb = sep > 0 ? target.slice(sep + 1) : '';
      if (verb === 'enable') {
        const s = await commands.enable(request.clientId, id);
        return toJson(
          EnableSubscriptionResponseSchema,
          create(EnableSubscriptionResponseSchema, { subscription: subscriptionToProto(s) }),
        );
      }
      return sendProblem(
        reply,
        problem(404, 'ROUTE.NOT_FOUND', `unknown custom method ':${verb}' (known: :enable)`),
      );
    },
  );
};
