/**
 * The clock actions of the control API (/_emulator/clock) and the programmatic handle: read the emulator's one clock, freeze it (now or at a given instant), move it
 * forward (or back) by a duration, or return to real time. Token `iat`/`exp`, every expiry check (XSUAA,
 * Destination Service, connectivity proxy), authorization codes, principal-propagation certificates and the
 * journal's times all read this clock.
 */
import { parseWith, ValidationError } from '../../core/validation.ts';
import type { Clock } from '../../core/clock.ts';
import { instantText, isInstant } from '../../core/time-bounds.ts';
import { clockBody } from './schema.ts';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds: a number (ms) or text like `30m`, `90s`, `1h30m`, `500ms`, `2d`, `-5m`.
 * Returns undefined when the text is not a duration.
 */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const match = /^(-)?((?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)$/.exec(text);
  if (!match) return undefined;
  let total = 0;
  for (const part of match[2].matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(part[1]) * units[part[2]];
  return match[1] ? -total : total;
}

export interface ClockView {
  now: string;
  nowMs: number;
  frozen: boolean;
  /** How far the emulator's clock is from the machine's real time (ms). */
  offsetMs: number;
}

export function clockView(clock: Clock): ClockView {
  const nowMs = clock.now();
  return { now: new Date(nowMs).toISOString(), nowMs, frozen: clock.isFrozen?.() ?? false, offsetMs: nowMs - Date.now() };
}

export type ClockAction = { action: 'freeze'; at?: string } | { action: 'advance'; by: number | string } | { action: 'real' };

/** Apply one clock action; a bad field throws a ValidationError that names it. */
export function applyClockAction(clock: Clock, input: unknown): ClockView {
  const body = parseWith(clockBody, input, 'request body');
  const refuse = (path: string, message: string): never => {
    throw new ValidationError('request body', [{ path, message }]);
  };
  if (body.action !== 'advance' && body.by !== undefined) refuse('by', `by is only for action "advance", not "${body.action}"`);
  if (body.action !== 'freeze' && body.at !== undefined) refuse('at', `at is only for action "freeze", not "${body.action}"`);
  switch (body.action) {
    case 'freeze': {
      let at: number | undefined;
      if (body.at !== undefined) {
        at = Date.parse(body.at);
        if (Number.isNaN(at)) refuse('at', `at must be an ISO date-time like "2030-01-01T00:00:00Z", got "${body.at}"`);
        if (!isInstant(at!)) refuse('at', `at must be ${instantText}, got "${body.at}"`);
      }
      clock.freeze(at);
      break;
    }
    case 'advance': {
      if (body.by === undefined) refuse('by', 'by is required for action "advance": milliseconds, or text like "30m", "90s", "1h30m"');
      const ms = parseDuration(body.by!);
      if (ms === undefined)
        refuse('by', `by must be a duration: milliseconds, or text like "30m", "90s", "1h30m"; got "${String(body.by)}"`);
      // Bounded (core/time-bounds.ts), so every time the emulator later writes still fits a Date.
      if (!isInstant(clock.now() + ms!)) refuse('by', `by ${String(body.by)} would move the clock outside ${instantText}`);
      clock.advance(ms!);
      break;
    }
    case 'real':
      clock.useRealTime();
      break;
  }
  return clockView(clock);
}
