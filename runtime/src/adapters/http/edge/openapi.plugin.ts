import swagger, { type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync, RouteOptions } from 'fastify';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fp from 'fastify-plugin';
import {
  ADMIN_PREFIX,
  CONNECT_PREFIX,
  connectRouteSchemas,
  jsonApiRouteSchemas,
  type RouteDoc,
} from './route-schemas.js';
import type { SubmitRequestDoc } from './catalog-openapi.js';

export interface OpenApiPluginOptions {
  readonly version: string;
  /** Extra route docs (edge routes registered elsewhere), by `METHOD url`. */
  readonly extra?: Record<string, RouteDoc>;
  /** The submit request per job type of the catalog (documentation of `POST /v1/jobs`). */
  readonly submitRequest?: SubmitRequestDoc;
}

/**
 * OpenAPI 3 document at `/docs/json` (and `/docs/yaml`), Swagger UI at `/docs`. Registered before
 * every route (a pre-plugin) so `@fastify/swagger` sees them all; the JSON API's schemas come from
 * `route-schemas.ts` (generated from the proto descriptors) and are attached here when a route has
 * none of its own, so they also validate requests (Ajv) and serialize responses.
 */
// ajv-formats is CommonJS with a default export; under NodeNext its type is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Ajv for the generated schemas: no type coercion, no defaults, nothing removed, so validation
 * accepts exactly what the proto3 JSON parser accepts (Fastify's default Ajv would turn
 * `"priority": true` into 1).
 */
function strictAjv(): Ajv {
  return addFormats(
    new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, strict: false }),
  );
}

export function openApiPlugin(opts: OpenApiPluginOptions): FastifyPluginAsync {
  const ajv = strictAjv();
  const docs = { ...jsonApiRouteSchemas(), ...connectRouteSchemas(), ...opts.extra };
  return fp(async (app) => {
    app.addHook('onRoute', (route: RouteOptions) => {
      // connect.plugin.ts registers every HTTP method per RPC; Connect unary calls, gRPC and gRPC-Web
      // are all POST (no JobService method is marked side-effect free, so Connect GET is unused).
      if (route.url.startsWith(CONNECT_PREFIX)) route.method = 'POST';
      // The dashboard's page is documented under the admin key; Bull Board's internal API and
      // asset routes stay hidden (they are its implementation, not part of Jobplane's API).
      if (route.url.startsWith(ADMIN_PREFIX)) {
        route.schema =
          route.url === ADMIN_PREFIX
            ? {
                ...route.schema,
                hide: false,
                tags: ['admin'],
                summary: 'Queue dashboard (Bull Board UI)',
                security: [{ adminKey: [] }],
              }
            : { ...route.schema, hide: true };
        return;
      }
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        const doc = docs[`${method} ${route.url}`];
        if (!doc || route.schema) continue;
        route.schema = {
          summary: doc.summary,
          ...(doc.description ? { description: doc.description } : {}),
          tags: [...doc.tags],
          ...(doc.security ? { security: doc.security.map((s) => ({ ...s })) } : {}),
          ...(doc.body ? { body: doc.body } : {}),
          ...(doc.querystring ? { querystring: doc.querystring } : {}),
          ...(doc.params ? { params: doc.params } : {}),
          ...(doc.headers ? { headers: doc.headers } : {}),
          response: doc.response,
        };
        // Connect decodes (and validates) its own bodies, JSON or binary: the schema is documentation.
        route.validatorCompiler = route.url.startsWith(CONNECT_PREFIX)
          ? () => () => true
          : ({ schema }) => ajv.compile(schema);
      }
    });
    const submit = opts.submitRequest;
    await app.register(swagger, {
      // The submit body per job type: a union by `type` (documentation; validation is unchanged).
      ...(submit
        ? {
            transformObject: (document: Parameters<SwaggerTransformObject>[0]) => {
              if (!('openapiObject' in document)) return document.swaggerObject;
              const doc = document.openapiObject as {
                paths?: Record<
                  string,
                  Record<string, { requestBody?: { content?: Record<string, { schema?: unknown }> } }>
                >;
                components?: { schemas?: Record<string, unknown> };
              };
              const json = doc.paths?.['/v1/jobs']?.post?.requestBody?.content?.['application/json'];
              if (json) json.schema = submit.body;
              doc.components = {
                ...doc.components,
                schemas: { ...doc.components?.schemas, ...submit.schemas },
              };
              return document.openapiObject;
            },
          }
        : {}),
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Jobplane API',
          version: opts.version,
          description:
            'Job submission and control. Bodies are the proto3 JSON form of the jobprocessing.v1 messages; ' +
            'errors are RFC 9457 problem+json with a stable `code`. The same JobService is served over ' +
            'Connect and gRPC at /jobprocessing.v1.JobService/<Method>.',
        },
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key from JOBPLANE_API_KEYS' },
            adminKey: { type: 'http', scheme: 'bearer', description: 'JOBPLANE_ADMIN_KEY' },
          },
        },
        tags: [
          { name: 'jobs', description: 'Submit, read and control jobs' },
          { name: 'webhooks', description: 'Signed webhook deliveries that become jobs' },
          { name: 'subscriptions', description: 'Outgoing webhook subscriptions to lifecycle events' },
          { name: 'grpc', description: 'JobService over Connect (JSON or binary) and gRPC' },
          { name: 'admin', description: 'Queue dashboard (admin key)' },
          { name: 'operations', description: 'Health, readiness and metrics' },
        ],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  });
}
