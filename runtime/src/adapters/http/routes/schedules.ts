import { create, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  CatchUpPolicy as ProtoCatchUp,
  CreateScheduleRequestSchema,
  CreateScheduleResponseSchema,
  DeleteScheduleResponseSchema,
  GetScheduleResponseSchema,
  ListSchedulesRequestSchema,
  ListSchedulesResponseSchema,
  OverlapPolicy as ProtoOverlap,
  PauseScheduleResponseSchema,
  ResumeScheduleResponseSchema,
  ScheduleSchema,
  ScheduleSpecSchema,
  TriggerScheduleResponseSchema,
  UpdateScheduleRequestSchema,
  UpdateScheduleResponseSchema,
  type Schedule as ProtoSchedule,
  type ScheduleSpec as ProtoScheduleSpec,
} from '@jobplane/proto';
import type { FastifyPluginAsync } from 'fastify';
import {
  SPEC_FIELDS,
  type ScheduleCommands,
  type SpecField,
} from '../../../application/schedule-commands.js';
import { DomainError, invalidRequest } from '../../../domain/errors.js';
import {
  DEFAULT_CATCH_UP_WINDOW_SECONDS,
  type CatchUpPolicy,
  type OverlapPolicy,
  type Schedule,
  type ScheduleSpec,
} from '../../../domain/schedule.js';
import { checkStorableJson, singleHeader } from '../input.js';
import { jobToProto } from '../proto-mapping.js';
import { problem, sendProblem } from '../problem.js';
import { idOf, objectBody, parse, queryOf } from './proto-input.js';

const OVERLAP_FROM_PROTO: Record<ProtoOverlap, OverlapPolicy> = {
  [ProtoOverlap.UNSPECIFIED]: 'allow',
  [ProtoOverlap.ALLOW]: 'allow',
  [ProtoOverlap.SKIP]: 'skip',
  [ProtoOverlap.BUFFER_ONE]: 'buffer_one',
};
const OVERLAP_TO_PROTO: Record<OverlapPolicy, ProtoOverlap> = {
  allow: ProtoOverlap.ALLOW,
  skip: ProtoOverlap.SKIP,
  buffer_one: ProtoOverlap.BUFFER_ONE,
};
const CATCH_UP_FROM_PROTO: Record<ProtoCatchUp, CatchUpPolicy> = {
  [ProtoCatchUp.UNSPECIFIED]: 'skip',
  [ProtoCatchUp.SKIP]: 'skip',
  [ProtoCatchUp.FIRE_ONCE]: 'fire_once',
  [ProtoCatchUp.ALL]: 'all',
};
const CATCH_UP_TO_PROTO: Record<CatchUpPolicy, ProtoCatchUp> = {
  skip: ProtoCatchUp.SKIP,
  fire_once: ProtoCatchUp.FIRE_ONCE,
  all: ProtoCatchUp.ALL,
};

/** `jobprocessing.v1.ScheduleSpec` → domain spec (defaults applied; validation is the use case's). */
export function specFromProto(p: ProtoScheduleSpec | undefined): ScheduleSpec {
  const payload = (p?.payload ?? {}) as Record<string, unknown>;
  checkStorableJson(payload, 'spec.payload');
  return {
    cron: p?.cron ?? '',
    timeZone: p?.timeZone ?? '',
    jobType: p?.jobType ?? '',
    payload,
    priority: p?.priority ?? 0,
    maxAttempts: p?.maxAttempts ?? 0,
    overlapPolicy: OVERLAP_FROM_PROTO[p?.overlapPolicy ?? ProtoOverlap.UNSPECIFIED] ?? 'allow',
    catchUpPolicy: CATCH_UP_FROM_PROTO[p?.catchUpPolicy ?? ProtoCatchUp.UNSPECIFIED] ?? 'skip',
    catchUpWindowSeconds: p?.catchUpWindowSeconds || DEFAULT_CATCH_UP_WINDOW_SECONDS,
    jitterSeconds: p?.jitterSeconds ?? 0,
    startTime: p?.startTime ? timestampDate(p.startTime) : null,
    endTime: p?.endTime ? timestampDate(p.endTime) : null,
    description: p?.description ?? '',
  };
}

/** Domain schedule → `jobprocessing.v1.Schedule`. */
export function scheduleToProto(s: Schedule): ProtoSchedule {
  return create(ScheduleSchema, {
    id: s.id,
    spec: create(ScheduleSpecSchema, {
      cron: s.cron,
      timeZone: s.timeZone,
      jobType: s.jobType,
      payload: s.payload as Record<string, JsonValue>,
      priority: s.priority,
      maxAttempts: s.maxAttempts,
      overlapPolicy: OVERLAP_TO_PROTO[s.overlapPolicy],
      catchUpPolicy: CATCH_UP_TO_PROTO[s.catchUpPolicy],
      catchUpWindowSeconds: s.catchUpWindowSeconds,
      jitterSeconds: s.jitterSeconds,
      ...(s.startTime ? { startTime: timestampFromDate(s.startTime) } : {}),
      ...(s.endTime ? { endTime: timestampFromDate(s.endTime) } : {}),
      description: s.description,
    }),
    paused: s.paused,
    ...(s.nextFireTime ? { nextFireTime: timestampFromDate(s.nextFireTime) } : {}),
    ...(s.lastFireTime ? { lastFireTime: timestampFromDate(s.lastFireTime) } : {}),
    ...(s.bufferedFireTime ? { bufferedFireTime: timestampFromDate(s.bufferedFireTime) } : {}),
    lastJobId: s.lastJobId ?? '',
    createTime: timestampFromDate(s.createTime),
    updateTime: timestampFromDate(s.updateTime),
  });
}

/** Spec field by its proto name or JSON name (`time_zone`, `timeZone`). */
const FIELD_BY_NAME = new Map<string, SpecField>(
  ScheduleSpecSchema.fields.flatMap((f) => {
    const local = f.localName as SpecField;
    return SPEC_FIELDS.includes(local) ? [[f.name, local] as const, [f.jsonName, local] as const] : [];
  }),
);

/** Parses untrusted JSON into a proto message; unknown fields and wrong types are 400s. */

const doc = (summary: string, description?: string) => ({
  summary,
  ...(description ? { description } : {}),
  tags: ['schedules'],
  security: [{ bearerAuth: [] }],
});

/**
 * /v1/schedules: create, read, list, update, pause, resume, delete and trigger schedules. Bodies
 * are the proto3 JSON form of the `jobprocessing.v1` ScheduleService messages; every route is
 * scoped to the authenticated client.
 */
export const scheduleRoutes: FastifyPluginAsync<{ commands: ScheduleCommands }> = async (
  app,
  { commands },
) => {
  app.post(
    '/schedules',
    {
      schema: doc(
        'Create a schedule (CreateSchedule)',
        'Answers 201 with the schedule and its next fire time.',
      ),
    },
    async (request, reply) => {
      const body = parse('body is not a valid CreateScheduleRequest', () =>
        fromJson(CreateScheduleRequestSchema, objectBody(request, 'CreateScheduleRequest')),
      );
      const schedule = await commands.create(request.clientId, specFromProto(body.spec));
      reply.header('location', `/v1/schedules/${schedule.id}`);
      return reply
        .status(201)
        .send(
          toJson(
            CreateScheduleResponseSchema,
            create(CreateScheduleResponseSchema, { schedule: scheduleToProto(schedule) }),
          ),
        );
    },
  );

  app.get('/schedules', { schema: doc('List schedules, newest first (ListSchedules)') }, async (request) => {
    const req = parse('invalid query', () => fromJson(ListSchedulesRequestSchema, queryOf(request)));
    const page = await commands.list(request.clientId, req.pageSize, req.pageToken);
    return toJson(
      ListSchedulesResponseSchema,
      create(ListSchedulesResponseSchema, {
        schedules: page.items.map(scheduleToProto),
        nextPageToken: page.nextCursor ?? '',
      }),
    );
  });

  app.get('/schedules/:id', { schema: doc('Read a schedule (GetSchedule)') }, async (request) => {
    const schedule = await commands.get(request.clientId, idOf(request));
    return toJson(
      GetScheduleResponseSchema,
      create(GetScheduleResponseSchema, { schedule: scheduleToProto(schedule) }),
    );
  });

  app.patch(
    '/schedules/:id',
    {
      schema: doc(
        'Change a schedule (UpdateSchedule)',
        'Body `{"spec": {…}, "updateMask": "cron,timeZone"}`; without updateMask the fields present in spec change.',
      ),
    },
    async (request) => {
      const raw = objectBody(request, 'UpdateScheduleRequest');
      const body = parse('body is not a valid UpdateScheduleRequest', () =>
        fromJson(UpdateScheduleRequestSchema, raw),
      );
      if (body.id !== '' && body.id !== idOf(request)) {
        throw invalidRequest(`'id' (${body.id}) differs from the schedule in the path`);
      }
      const names =
        body.updateMask && body.updateMask.paths.length > 0
          ? body.updateMask.paths
          : Object.keys((raw.spec as Record<string, JsonValue> | undefined) ?? {});
      const fields = names.map((n) => {
        const f = FIELD_BY_NAME.get(n);
        if (!f) throw invalidRequest(`'updateMask': '${n}' is not a field of ScheduleSpec`);
        return f;
      });
      if (fields.length === 0) throw invalidRequest(`'spec' names no field to change`);
      const schedule = await commands.update(
        request.clientId,
        idOf(request),
        specFromProto(body.spec),
        fields,
      );
      return toJson(
        UpdateScheduleResponseSchema,
        create(UpdateScheduleResponseSchema, { schedule: scheduleToProto(schedule) }),
      );
    },
  );

  app.delete('/schedules/:id', { schema: doc('Delete a schedule (DeleteSchedule)') }, async (request) => {
    await commands.delete(request.clientId, idOf(request));
    return toJson(DeleteScheduleResponseSchema, create(DeleteScheduleResponseSchema, {}));
  });

  // Custom methods (AIP-136) `POST /v1/schedules/{id}:pause|resume|trigger`.
  app.post(
    '/schedules/:target',
    {
      schema: doc(
        'Pause, resume or trigger a schedule: POST /v1/schedules/{id}:pause | :resume | :trigger',
        ':trigger creates one job now (202 with `job` and `schedule`); an Idempotency-Key header makes it idempotent.',
      ),
    },
    async (request, reply) => {
      const target = (request.params as { target: string }).target;
      const sep = target.lastIndexOf(':');
      const id = sep > 0 ? target.slice(0, sep) : target;
      const verb = sep > 0 ? target.slice(sep + 1) : '';
      if (verb === 'pause' || verb === 'resume') {
        const schedule =
          verb === 'pause'
            ? await commands.pause(request.clientId, id)
            : await commands.resume(request.clientId, id);
        const schema = verb === 'pause' ? PauseScheduleResponseSchema : ResumeScheduleResponseSchema;
        return toJson(schema, create(schema, { schedule: scheduleToProto(schedule) }));
      }
      if (verb === 'trigger') {
        const key = singleHeader(
          request.raw.rawHeaders,
          'idempotency-key',
          () => new DomainError('IDEMPOTENCY.KEY_INVALID', 'send at most one Idempotency-Key header'),
        );
        const { job, schedule } = await commands.trigger(request.clientId, id, key, request.id);
        return reply.status(202).send(
          toJson(
            TriggerScheduleResponseSchema,
            create(TriggerScheduleResponseSchema, {
              job: jobToProto(job),
              schedule: scheduleToProto(schedule),
            }),
          ),
        );
      }
      return sendProblem(
        reply,
        problem(
          404,
          'ROUTE.NOT_FOUND',
          `unknown custom method ':${verb}' (known: :pause, :resume, :trigger)`,
        ),
      );
    },
  );
};
