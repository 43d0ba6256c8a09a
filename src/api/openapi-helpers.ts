/** Building blocks for the OpenAPI path items each route module exports (see openapi.ts). */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';

export type OpenApiPaths = Record<string, Record<string, unknown>>;
type Json = Record<string, unknown>;

/**
 * Named schemas (zod schemas with `.meta({ id })`) collected from every jsonSchema() call, served as
 * `components.schemas`. Input and output forms of one schema share a name when they are identical;
 * otherwise the later one gets an `Input`/`Output` suffix.
 */
const components: Record<string, Json> = {};

export function componentSchemas(): Record<string, Json> {
  return Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b)));
}

function rewriteRefs(value: unknown, names: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, names));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
          const name = v.slice('#/$defs/'.length);
          return [k, `#/components/schemas/${names[name] ?? name}`];
        }
        return [k, rewriteRefs(v, names)];
      }),
    );
  }
  return value;
}

/** A zod schema as an OpenAPI 3.1 (JSON Schema 2020-12) schema object; named parts become components. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Json {
  const {
    $schema: _drop,
    $defs = {},
    ...root
  } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json & { $defs?: Record<string, Json> };
  const names: Record<string, string> = Object.fromEntries(Object.keys($defs).map((k) => [k, k]));
  const suffix = io === 'output' ? 'Output' : 'Input';
  const fits = (name: string, def: Json) =>
    !components[name] || isDeepStrictEqual(components[name], rewriteRefs(def, names));
  // Each def takes the first of `Id`, `IdOutput`, `IdOutput2`… that is free or identical; names of
  // defs depend on the names of the defs they refer to, so repeat until nothing changes.
  for (let round = 0; round <= 2 * Object.keys($defs).length + 1; round++) {
    let changed = false;
    for (const [id, def] of Object.entries($defs)) {
      let n = 0;
      let candidate = id;
      while (!fits(candidate, def)) candidate = `${id}${suffix}${++n > 1 ? n : ''}`;
      if (candidate !== names[id]) {
        names[id] = candidate;
        changed = true;
      }
    }
    if (!changed) break;
  }
  for (const [id, def] of Object.entries($defs)) components[names[id]] ??= rewriteRefs(def, names) as Json;
  return rewriteRefs(root, names) as Json;
}

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string', examples: ['validation_failed'] },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'message'],
            properties: {
              path: { type: 'string', examples: ['actions[0].params.recipient'] },
              message: { type: 'string', examples: ['required'] },
            },
          },
        },
      },
    },
  },
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `details` names each field',
  401: 'Missing or invalid credentials',
  403: "The key's role does not allow this operation (`forbidden`; the message names the role needed)",
  404: 'Not found (or owned by another account)',
  409: 'Conflict',
  413: 'Body too large',
  415: 'Body is not JSON',
  429: 'Rate limited, or too many failed credentials from this address; see Retry-After',
  // Any call that needs Temporal or PostgreSQL while it is down (./temporal-unavailable.ts, ./database-unavailable.ts).
  503: 'Temporal or the database is not reachable (temporal_unavailable, database_unavailable); retry after Retry-After seconds',
};

/** Shorthands for route modules. */
export const json = (schema: Json) => ({ content: { 'application/json': { schema } } });
export const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      { description: ERROR_DESCRIPTIONS[c] ?? 'error', ...json({ $ref: '#/components/schemas/Error' }) },
    ]),
  );

/** A JSON request body from a zod schema. */
export const requestBody = (schema: z.ZodType, description?: string) => ({
  required: true,
  ...(description && { description }),
  ...json(jsonSchema(schema, 'input')),
});

/** A JSON response from a zod schema. */
export const response = (schema: z.ZodType, description: string) => ({
  description,
  ...json(jsonSchema(schema, 'output')),
});

export const noContent = (description = 'Done; no body') => ({ description });

/** Query parameters from a zod object schema, one per key. */
export function queryParameters(schema: z.ZodObject): Json[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const s = field as z.ZodType;
    const { description, ...rest } = jsonSchema(s, 'input');
    return {
      name,
      in: 'query',
      required: !s.safeParse(undefined).success,
      ...(typeof description === 'string' && { description }),
      schema: rest,
    };
  });
}

export const pathParameter = (name: string, description: string, schema: Json = { type: 'string' }) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
