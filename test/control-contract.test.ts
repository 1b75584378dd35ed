/**
 * The control API's OpenAPI 3.1 contract against the running emulator: the document served at
 * /_emulator/openapi.json compiles as JSON Schema 2020-12, its operations and the app's route table are the same
 * set (a route without a schema, or a schema without a route, fails here), every parameterless GET answers what
 * the document says, and every body-taking route refuses a bad body with a 400 naming the field, changing nothing.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlApiError, ControlClient } from '../emulator/client/index.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';

type Json = Record<string, unknown>;
interface OperationDoc {
  operationId: string;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { content?: Record<string, { schema: Json }>; $ref?: string }>;
}

let emu: EmulatorHandle;
let control: ControlClient;
let doc: { openapi: string; paths: Record<string, Record<string, OperationDoc>>; components: Json };

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  control = new ControlClient(emu.urls.services);
  const res = await fetch(`${emu.urls.control}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});

afterAll(() => emu?.stop());

const methods = ['get', 'post', 'put', 'delete', 'patch'];

function documented(): { method: string; path: string; operation: OperationDoc }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => methods.includes(method))
      .map(([method, operation]) => ({ method, path, operation })),
  );
}

/** The app's control routes as `METHOD /path/{param}` (Hono writes `:param`). */
function routed(): Set<string> {
  return new Set(
    emu.core.app.routes
      .filter((r) => r.path.startsWith('/_emulator/') && r.method !== 'ALL')
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
  );
}

function ajv(): Ajv2020 {
  const validator = new Ajv2020({ strict: false, allErrors: true });
  (addFormatsModule as unknown as (a: Ajv2020) => void)(validator);
  validator.addSchema({ $id: 'control-openapi', components: doc.components });
  return validator;
}

/** Component refs (`#/components/…`) point into the document added to ajv above. */
const resolveRefs = (schema: unknown): unknown =>
  JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\/components\//g, '"$ref":"control-openapi#/components/'));

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with an operationId, a summary and responses for every operation, and unique ids', () => {
    expect(doc.openapi).toBe('3.1.0');
    const ops = documented();
    expect(ops.length).toBeGreaterThan(20);
    const ids = ops.map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, operation } of ops) {
      expect(operation.operationId, `${method} ${path}`).toMatch(/^\w+$/);
      expect(Object.keys(operation.responses).length, `${method} ${path}`).toBeGreaterThan(0);
    }
  });

  it('has schemas that compile as JSON Schema 2020-12 (the dialect of OpenAPI 3.1)', () => {
    const validator = ajv();
    let compiled = 0;
    for (const { method, path, operation } of documented()) {
      const schemas = [
        ...Object.values(operation.requestBody?.content ?? {}).map((c) => c.schema),
        ...Object.values(operation.responses).flatMap((r) => Object.values(r.content ?? {}).map((c) => c.schema)),
      ];
      for (const schema of schemas) {
        expect(() => validator.compile(resolveRefs(schema) as Json), `${method} ${path}`).not.toThrow();
        compiled++;
      }
    }
    expect(compiled).toBeGreaterThan(25);
  });

  it('documents exactly the routes the emulator serves under /_emulator, and serves every documented one', () => {
    const inDoc = new Set(documented().map((o) => `${o.method} ${o.path}`));
    const inApp = routed();
    const undocumented = [...inApp].filter((r) => !inDoc.has(r));
    const unrouted = [...inDoc].filter((r) => !inApp.has(r));
    expect(undocumented, 'routes without a schema in emulator/app/control/contract.ts').toEqual([]);
    expect(unrouted, 'schemas without a route').toEqual([]);
  });
});

describe('answers match the document', () => {
  it('every GET without path parameters answers 200 with a body its response schema accepts', async () => {
    const validator = ajv();
    const gets = documented().filter(
      (o) => o.method === 'get' && !o.path.includes('{') && !(o.operation.parameters ?? []).some((p) => p.required),
    );
    expect(gets.length).toBeGreaterThan(8);
    for (const { path, operation } of gets) {
      const res = await fetch(`${emu.urls.services}${path}`);
      expect(res.status, path).toBe(200);
      const validate = validator.compile(resolveRefs(operation.responses['200'].content!['application/json'].schema) as Json);
      const body = await res.json();
      expect(validate(body), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('a refused request answers the documented Error shape', async () => {
    const validate = ajv().compile({ $ref: 'control-openapi#/components/schemas/Error' });
    const res = await fetch(`${emu.urls.control}/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"action":"sideways"}',
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    expect(body.issues).toEqual([{ path: 'action', message: 'action must be one of freeze, advance, real' }]);
  });
});

describe('every route that takes a body validates it', () => {
  /** Parameterless GETs whose answer only changes when state does. */
  async function stableState(): Promise<Record<string, string>> {
    const paths = ['/scenario', '/cloud-connectors', '/backend/stubs', '/keys', '/env'];
    return Object.fromEntries(await Promise.all(paths.map(async (p) => [p, await (await fetch(`${emu.urls.control}${p}`)).text()])));
  }

  it('answers 400 naming the field for a body with a wrong field, and nothing changes', async () => {
    const before = await stableState();
    const bodied = documented().filter((o) => o.operation.requestBody);
    expect(bodied.length).toBeGreaterThan(5);
    for (const { method, path, operation } of bodied) {
      const schema = operation.requestBody!.content['application/json'].schema as {
        properties?: Record<string, Json>;
        required?: string[];
      };
      const required = schema.required ?? [];
      // Without a required field the error names it; when every field is optional, a field of the wrong type.
      const field = required[0] ?? Object.keys(schema.properties ?? {})[0];
      const body = required.length ? {} : { [field]: { not: 'this' } };
      const url = `${emu.urls.services}${path.replace(/\{\w+\}/g, 'x')}`;
      const res = await fetch(url, {
        method: method.toUpperCase(),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as { issues?: { path: string }[]; message: string };
      expect(res.status, `${method} ${path}: ${JSON.stringify(answer)}`).toBe(400);
      expect(
        answer.issues?.map((i) => i.path.split(/[.[]/)[0]),
        `${method} ${path}: ${answer.message}`,
      ).toContain(field);
      expect(answer.message).toContain(field);
    }
    const notJson = await fetch(`${emu.urls.control}/users/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"user":',
    });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).message).toMatch(/not JSON/);
    expect(await stableState()).toEqual(before);
  });

  it('the typed client reports the same refusal as a ControlApiError with the issues', async () => {
    const err = await control.call('setCloudConnectorState', { body: { locationId: 'LOC1' } as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlApiError);
    expect((err as ControlApiError).status).toBe(400);
    expect((err as ControlApiError).body).toMatchObject({ issues: [{ path: 'online' }] });
  });
});
