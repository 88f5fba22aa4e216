import { ScalarType, type DescEnum, type DescField, type DescMessage } from '@bufbuild/protobuf';

/**
 * JSON Schema (draft-07 subset that Fastify and OpenAPI 3 both accept) for protobuf-es message
 * descriptors, following the proto3 JSON mapping so the schema describes exactly what
 * `toJson`/`fromJson` produce and accept:
 * - field names are the `jsonName` (lowerCamelCase);
 * - enums are their value names as strings;
 * - 64-bit integers are decimal strings, 32-bit integers are integers with their range;
 * - `bytes` are base64 strings; `google.protobuf.Timestamp` is an RFC 3339 `date-time` string,
 *   `Duration` a `"<seconds>s"` string, `Struct` an object, `Value` anything, `ListValue` an array,
 *   wrappers their wrapped scalar;
 * - every field is optional (proto3 JSON omits default values).
 * @see https://protobuf.dev/programming-guides/json/
 */
export type JsonSchema = Record<string, unknown>;

export interface ToJsonSchemaOptions {
  /**
   * Extra accepted spellings for enum values (e.g. `queued` for `JOB_STATE_QUEUED`), for inputs
   * that accept them. Returns the aliases of one value name.
   */
  readonly enumAliases?: (desc: DescEnum, valueName: string) => readonly string[];
}

const INT32: readonly ScalarType[] = [ScalarType.INT32, ScalarType.SINT32, ScalarType.SFIXED32];
const UINT32: readonly ScalarType[] = [ScalarType.UINT32, ScalarType.FIXED32];
const INT64: readonly ScalarType[] = [ScalarType.INT64, ScalarType.SINT64, ScalarType.SFIXED64];
const UINT64: readonly ScalarType[] = [ScalarType.UINT64, ScalarType.FIXED64];

export function scalarSchema(scalar: ScalarType): JsonSchema {
  if (INT32.includes(scalar)) return { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
  if (UINT32.includes(scalar)) return { type: 'integer', minimum: 0, maximum: 4294967295 };
  if (INT64.includes(scalar)) return { type: 'string', pattern: '^-?[0-9]+$', format: 'int64' };
  if (UINT64.includes(scalar)) return { type: 'string', pattern: '^[0-9]+$', format: 'uint64' };
  switch (scalar) {
    case ScalarType.DOUBLE:
      return { type: 'number', format: 'double' };
    case ScalarType.FLOAT:
      return { type: 'number', format: 'float' };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.BYTES:
      return { type: 'string', format: 'byte' };
    default:
      return { type: 'string' };
  }
}

export function enumSchema(desc: DescEnum, opts: ToJsonSchemaOptions = {}): JsonSchema {
  const names = desc.values.flatMap((v) => [v.name, ...(opts.enumAliases?.(desc, v.name) ?? [])]);
  return { type: 'string', enum: [...new Set(names)] };
}

const WRAPPERS: Record<string, ScalarType> = {
  'google.protobuf.DoubleValue': ScalarType.DOUBLE,
  'google.protobuf.FloatValue': ScalarType.FLOAT,
  'google.protobuf.Int64Value': ScalarType.INT64,
  'google.protobuf.UInt64Value': ScalarType.UINT64,
  'google.protobuf.Int32Value': ScalarType.INT32,
  'google.protobuf.UInt32Value': ScalarType.UINT32,
  'google.protobuf.BoolValue': ScalarType.BOOL,
  'google.protobuf.StringValue': ScalarType.STRING,
  'google.protobuf.BytesValue': ScalarType.BYTES,
};

function wellKnown(typeName: string): JsonSchema | undefined {
  switch (typeName) {
    case 'google.protobuf.Timestamp':
      return { type: 'string', format: 'date-time' };
    case 'google.protobuf.Duration':
      return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,9})?s$' };
    case 'google.protobuf.Struct':
      return { type: 'object', additionalProperties: true };
    case 'google.protobuf.Value':
      return {};
    case 'google.protobuf.ListValue':
      return { type: 'array', items: {} };
    case 'google.protobuf.Empty':
      return { type: 'object', additionalProperties: false };
    case 'google.protobuf.FieldMask':
      return { type: 'string' };
    case 'google.protobuf.Any':
      return { type: 'object', properties: { '@type': { type: 'string' } }, required: ['@type'] };
  }
  const wrapped = WRAPPERS[typeName];
  return wrapped === undefined ? undefined : scalarSchema(wrapped);
}

function fieldSchema(field: DescField, opts: ToJsonSchemaOptions, seen: readonly string[]): JsonSchema {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarSchema(field.scalar);
    case 'enum':
      return enumSchema(field.enum, opts);
    case 'message':
      return messageSchemaInner(field.message, opts, seen);
    case 'list': {
      const items =
        field.listKind === 'scalar'
          ? scalarSchema(field.scalar)
          : field.listKind === 'enum'
            ? enumSchema(field.enum, opts)
            : messageSchemaInner(field.message, opts, seen);
      return { type: 'array', items };
    }
    case 'map': {
      const values =
        field.mapKind === 'scalar'
          ? scalarSchema(field.scalar)
          : field.mapKind === 'enum'
            ? enumSchema(field.enum, opts)
            : messageSchemaInner(field.message, opts, seen);
      return { type: 'object', additionalProperties: values };
    }
  }
}

function messageSchemaInner(
  desc: DescMessage,
  opts: ToJsonSchemaOptions,
  seen: readonly string[],
): JsonSchema {
  const wkt = wellKnown(desc.typeName);
  if (wkt) return wkt;
  if (seen.includes(desc.typeName)) {
    // Inlined schemas cannot express recursion; jobprocessing.v1 has none, so fail loudly.
    throw new Error(`message '${desc.typeName}' is recursive (${[...seen, desc.typeName].join(' → ')})`);
  }
  const properties: Record<string, JsonSchema> = {};
  for (const field of desc.fields)
    properties[field.jsonName] = fieldSchema(field, opts, [...seen, desc.typeName]);
  return { type: 'object', title: desc.typeName, properties };
}

/** The JSON Schema of a message's proto3 JSON form, with nested messages inlined. */
export function messageJsonSchema(desc: DescMessage, opts: ToJsonSchemaOptions = {}): JsonSchema {
  return messageSchemaInner(desc, opts, []);
}

/**
 * A querystring (or path-params) schema from a request message: only the listed scalar and enum
 * fields (the ones that fit in a URL). Integers are described as digit strings, which is what a
 * URL carries and what the proto3 JSON parser accepts.
 */
export function parametersJsonSchema(
  desc: DescMessage,
  include: readonly string[],
  opts: ToJsonSchemaOptions = {},
): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const field of desc.fields) {
    if (!include.includes(field.jsonName)) continue;
    if (field.fieldKind !== 'scalar' && field.fieldKind !== 'enum') {
      throw new Error(
        `field '${desc.typeName}.${field.name}' (${field.fieldKind}) cannot be a URL parameter`,
      );
    }
    const schema = fieldSchema(field, opts, []);
    // URL values are strings; keep them strings (no Ajv coercion) and let the pattern say "integer".
    properties[field.jsonName] =
      schema.type === 'integer'
        ? {
            type: 'string',
            pattern: (schema.minimum as number) < 0 ? '^-?[0-9]+$' : '^[0-9]+$',
            format: 'int32',
          }
        : schema;
  }
  const missing = include.filter((n) => !(n in properties));
  if (missing.length > 0) throw new Error(`message '${desc.typeName}' has no field(s) ${missing.join(', ')}`);
  return { type: 'object', properties };
}
