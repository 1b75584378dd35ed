/**
 * Issue 15: fast-check reaches the input classes the hardening bounds. Deep and large JSON bodies, numeric edge
 * values for every number of a snapshot's clock, keys and faults and of a fault spec, and mail sizes around the
 * SMTP limit: every answer is a 2xx with a consistent state (snapshot and fault list still answer) or a 4xx/552
 * with the state unchanged; never a 500 and never a dead process.
 */
import fc from 'fast-check';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';

let emu: EmulatorHandle;
const smtpLimit = 32 * 1024;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, maxBodyBytes: 64 * 1024, smtpMaxMessageBytes: smtpLimit });
});

afterAll(async () => {
  await emu?.stop();
});

const send = (method: string, path: string, body: string): Promise<Response> =>
  fetch(`${emu.urls.control}${path}`, { method, headers: { 'content-type': 'application/json' }, body });

/** The state as the API shows it, without what moves by itself. */
async function stateNow(): Promise<unknown> {
  const snapshot = (await (await fetch(`${emu.urls.control}/snapshot`)).json()) as Record<string, unknown>;
  return { ...snapshot, savedAt: undefined, clock: undefined };
}

const edgeNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.5,
    2 ** 31,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    8.64e15,
    -8.64e15,
    8.64e15 + 1,
    1e300,
    Number.MIN_VALUE,
    253402300799999,
    253402300800000,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** A JSON value nested `depth` deep, as text (built without recursion). */
const nested = fc
  .tuple(fc.integer({ min: 1, max: 3000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => open.repeat(depth) + '1' + (open === '[' ? ']' : '}').repeat(depth));

async function expectAnsweredWithoutDamage(res: Response, before: unknown): Promise<void> {
  expect(res.status).not.toBe(500);
  expect(res.status).toBeLessThan(500);
  if (res.status >= 400) expect(await stateNow()).toEqual(before);
  expect((await fetch(`${emu.urls.control}/faults`)).status).toBe(200);
  expect((await fetch(`${emu.urls.control}/snapshot`)).status).toBe(200);
}

describe('fuzzed bodies and numbers: 2xx and consistent, or 4xx and unchanged', () => {
  it('deep and large bodies on every JSON control endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/faults', '/snapshot', '/clock', '/keys/rotate', '/backend/stubs', '/scenario'),
        fc.oneof(
          nested,
          fc.integer({ min: 1, max: 200_000 }).map((n) => JSON.stringify({ effect: { status: 503, body: 'x'.repeat(n) } })),
        ),
        async (path, body) => {
          emu.reset();
          const before = await stateNow();
          await expectAnsweredWithoutDamage(
            await send(path === '/snapshot' ? 'PUT' : 'POST', path, path === '/faults' ? `{"effect":{"status":503,"body":${body}}}` : body),
            before,
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('every number of a fault spec', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('times', 'skip', 'durationMs', 'latencyMs', 'status', 'tokenValidity', 'rateLimit.limit', 'rateLimit.windowMs'),
        edgeNumber,
        async (field, value) => {
          emu.reset();
          const before = await stateNow();
          const spec: Record<string, unknown> = { effect: { status: 503 } };
          if (['times', 'skip', 'durationMs'].includes(field)) spec[field] = value;
          else if (field.startsWith('rateLimit.')) spec.effect = { rateLimit: { limit: 1, windowMs: 1000, [field.slice(10)]: value } };
          else spec.effect = { [field]: value };
          await expectAnsweredWithoutDamage(await send('POST', '/faults', JSON.stringify(spec)), before);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('every number of a snapshot clock, key and fault', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'clock.nowMs',
          'clock.offsetMs',
          'signingKeys.0.retiresAt',
          'faults.nextId',
          'faults.faults.0.hits',
          'faults.faults.0.remaining',
          'onPrem.nextMailId',
        ),
        fc.boolean(),
        edgeNumber,
        async (field, frozen, value) => {
          emu.reset();
          emu.addFault({ id: 'f', target: { service: 'backend' }, effect: { status: 503 }, times: 3 });
          const snapshot = (await (await fetch(`${emu.urls.control}/snapshot`)).json()) as Record<string, unknown>;
          (snapshot.clock as Record<string, unknown>).frozen = frozen;
          const keys = field.split('.');
          let at: Record<string, unknown> = snapshot;
          for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
          at[keys.at(-1)!] = value;
          const before = await stateNow();
          const res = await send('PUT', '/snapshot', JSON.stringify(snapshot));
          await expectAnsweredWithoutDamage(res, before);
          if (res.ok) {
            expect((await fetch(`${emu.urls.services}/token_keys`)).status).toBe(200);
            expect((await fetch(`${emu.urls.control}/clock`)).status).toBe(200);
            expect((await fetch(`${emu.urls.control}/reset`, { method: 'POST' })).status).toBe(200);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('mail sizes around the SMTP limit: accepted and kept, or 552 and kept nowhere', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: smtpLimit * 3 }), async (size) => {
        const before = emu.onPrem.mails().length;
        const transport = nodemailer.createTransport({ host: '127.0.0.1', port: emu.ports.smtp, secure: false, ignoreTLS: true });
        try {
          await transport.sendMail({
            from: 'a@example.com',
            to: 'b@example.com',
            subject: `size ${size}`,
            text: `${'z'.repeat(70)}\n`.repeat(Math.ceil(size / 71)),
          });
          expect(emu.onPrem.mails().length).toBe(before + 1);
        } catch (err) {
          expect((err as { responseCode?: number }).responseCode).toBe(552);
          expect(emu.onPrem.mails().length).toBe(before);
        } finally {
          transport.close();
        }
      }),
      { numRuns: 15 },
    );
  });
});
