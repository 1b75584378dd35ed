/**
 * Tokens the emulator itself refuses, for tests of SAP's clients (xssec, approuter, apps): the client must
 * refuse them too. Unlike a signature the test forges, these depend on the emulator: an expired token exists
 * only if the emulator mints `exp` from its own clock, and its /userinfo is asked to confirm the refusal.
 */
import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import type { EmulatorHandle } from '../emulator/index.ts';

const hour = 3600_000;

/**
 * A user token the emulator minted with its clock set 13 hours back (longer than the default 12 h validity), the
 * clock moved back afterwards. Asserts that it is expired in real time and that the emulator's /userinfo refuses it.
 */
export async function expiredUserToken(emu: EmulatorHandle, user: string): Promise<string> {
  emu.core.clock.advance(-13 * hour);
  let jwt: string;
  try {
    jwt = await emu.issueUserToken({ user });
  } finally {
    emu.core.clock.advance(13 * hour);
  }
  expect(decodeJwt(jwt).exp! * 1000, 'the emulator mints exp from its own clock').toBeLessThan(Date.now());
  const userinfo = await fetch(`${emu.urls.services}/userinfo`, { headers: { authorization: `Bearer ${jwt}` } });
  expect(userinfo.status, 'the emulator refuses its own expired token').toBe(401);
  expect(((await userinfo.json()) as { error_description: string }).error_description).toMatch(/^the token expired \d+ s ago$/);
  return jwt;
}
