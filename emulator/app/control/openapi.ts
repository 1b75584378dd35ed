/**
 * The control API as an OpenAPI 3.1 document, rendered from `contract.ts` (the same zod schemas the routes
 * parse with) and served at `GET /_emulator/openapi.json`.
 */
import { z } from 'zod';
import { controlBase, operations, type Operation } from './contract.ts';
import { errorResponse } from './schema.ts';

type Json = Record<string, unknown>;

/** The `format`s JSON Schema 2020-12 defines; zod also writes its own (`starts_with`), which say nothing to other tools. */
const standardFormats = new Set([
  'date-time',
  'date',
  'time',
  'duration',
  'email',
  'idn-email',
  'hostname',
  'idn-hostname',
  'ipv4',
  'ipv6',
  'uri',
  'uri-reference',
  'iri',
  'iri-reference',
  'uuid',
  'uri-template',
  'json-pointer',
  'relative-json-pointer',
  'regex',
]);

function withoutForeignFormats(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach(withoutForeignFormats);
  const record = node as Json;
  if (typeof record.format === 'string' && !standardFormats.has(record.format)) delete record.format;
  Object.values(record).forEach(withoutForeignFormats);
}

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of one zod schema; what zod cannot express becomes `{}`. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete out.$schema;
  withoutForeignFormats(out);
  return out;
}

function parameters(operation: Operation): Json[] {
  const params: Json[] = [...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (operation.query) {
    const query = jsonSchema(operation.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      const { description, ...rest } = schema;
      params.push({
        name,
        in: 'query',
        required: query.required?.includes(name) ?? false,
        schema: rest,
        ...(description ? { description } : {}),
      });
    }
  }
  return params;
}

const correlationHeader = { 'x-correlation-id': { $ref: '#/components/headers/CorrelationId' } };

function responses(operation: Operation): Json {
  const { ok } = operation;
  const content: Json = {};
  if (ok.schema) content['application/json'] = { schema: jsonSchema(ok.schema, 'output') };
  if (ok.alsoText) content['text/plain'] = { schema: { type: 'string' } };
  const result: Json = { [ok.status]: { description: ok.description, headers: correlationHeader, ...(ok.schema ? { content } : {}) } };
  for (const status of operation.errors ?? []) result[status] = { $ref: `#/components/responses/Error${status}` };
  if (operation.path !== '/health') result[401] = { $ref: '#/components/responses/Error401' };
  return result;
}

function requestBody(operation: Operation): Json | undefined {
  if (!operation.body) return undefined;
  const content: Json = { 'application/json': { schema: jsonSchema(operation.body, 'input') } };
  if (operation.yamlBody)
    content['application/yaml'] = { schema: { type: 'string', description: 'the same object as YAML (or JSON) text' } };
  return { required: false, content };
}

const errorDescriptions: Record<number, string> = {
  400: 'Invalid input: `message` and `issues[].path` name the field; nothing changed',
  401: 'A control token is set (`--control-token`) and the request did not carry it as `Authorization: Bearer …`',
  404: 'Not found',
  409: 'Conflict',
};

let cached: Json | undefined;

/** The whole document; built once, it only depends on the code. */
export function controlOpenApi(): Json {
  if (cached) return cached;
  const paths: Record<string, Json> = {};
  for (const [operationId, operation] of Object.entries(operations) as [string, Operation][]) {
    const path = (paths[controlBase + operation.path] ??= {});
    const params = parameters(operation);
    const body = requestBody(operation);
    path[operation.method] = {
      operationId,
      summary: operation.summary,
      tags: [operation.tag],
      ...(params.length ? { parameters: params } : {}),
      ...(body ? { requestBody: body } : {}),
      responses: responses(operation),
      ...(operation.path === '/health' ? { security: [] } : {}),
    };
  }
  const error = jsonSchema(errorResponse, 'output');
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'btp-connectivity-emulator control API',
      version: '1',
      description:
        'Drives the emulator from tests: seed, reset, inspect the request journal, move the clock, rotate keys, inject faults. Every request body is validated; a refused one changes nothing.',
    },
    servers: [{ url: '/' }],
    security: [{ controlToken: [] }, {}],
    paths,
    components: {
      securitySchemes: {
        controlToken: { type: 'http', scheme: 'bearer', description: 'Only when the emulator was started with a control token' },
      },
      headers: {
        CorrelationId: {
          description: "The request's x-correlation-id (or x-vcap-request-id), or a new one; the journal entry carries it",
          schema: { type: 'string' },
        },
      },
      schemas: { Error: error },
      responses: Object.fromEntries(
        Object.entries(errorDescriptions).map(([status, description]) => [
          `Error${status}`,
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
    },
  };
  return cached;
}
