import { payloadJsonSchema, type Catalog } from '@jobplane/sdk';
import { SubmitJobRequestSchema } from '@jobplane/proto';
import { messageJsonSchema, type JsonSchema } from './proto-json-schema.js';

/**
 * The submit request as the OpenAPI document shows it: a union discriminated by `type`, one
 * schema per submittable job type of the catalog with its payload's JSON Schema (from its zod
 * schema) and its example. Documentation only: requests are validated by the generated proto
 * schema, then by the job type's zod schema (JOB.PAYLOAD_INVALID names the field and the value).
 */
export interface SubmitRequestDoc {
  /** `components.schemas` entries, one per submittable job type. */
  readonly schemas: Record<string, JsonSchema>;
  /** The request body schema: `oneOf` the entries, discriminated by `type`. */
  readonly body: JsonSchema;
}

/** `components.schemas` name of a job type's submit request. */
export const submitSchemaName = (type: string): string => `SubmitJobRequest.${type}`;

export function submitRequestDoc(catalog: Catalog): SubmitRequestDoc {
  const generic = messageJsonSchema(SubmitJobRequestSchema) as {
    properties?: Record<string, JsonSchema>;
  };
  const { type: _type, payload: _payload, ...common } = generic.properties ?? {};
  const schemas: Record<string, JsonSchema> = {};
  const mapping: Record<string, string> = {};
  for (const def of catalog.jobTypes.filter((d) => d.submittable)) {
    const name = submitSchemaName(def.type);
    schemas[name] = {
      type: 'object',
      title: def.type,
      ...(def.description ? { description: def.description } : {}),
      properties: {
        type: { type: 'string', enum: [def.type] },
        payload: payloadJsonSchema(def),
        ...common,
      },
      required: ['type', 'payload'],
      additionalProperties: false,
      ...(def.example !== undefined ? { example: { type: def.type, payload: def.example } } : {}),
    };
    mapping[def.type] = `#/components/schemas/${name}`;
  }
  return {
    schemas,
    body: {
      oneOf: Object.values(mapping).map(($ref) => ({ $ref })),
      discriminator: { propertyName: 'type', mapping },
    },
  };
}
