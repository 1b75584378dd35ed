/**
 * Bounds for every number that becomes a Date: instants (a frozen clock, `until`, `modifiedAt`, key retirement)
 * lie between 1970 and the end of year 9999, durations and offsets (clock moves, fault durations, key grace,
 * token validity) are at most 100 years. Any sum of one instant and one duration then still fits a Date (which
 * ends in the year 275760), so nothing the emulator later writes as an ISO time can throw. Schemas refuse
 * values outside, naming the field, before anything is applied.
 */
import { z } from 'zod';

/** 9999-12-31T23:59:59.999Z: the last instant with a four-digit year. */
export const maxInstantMs = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** 100 years (of 365.25 days). */
export const maxDurationMs = 100 * 365.25 * 86_400_000;

export const instantText = 'a time between 1970 and the end of 9999 (ms since 1970)';
export const durationText = 'at most 100 years';

export const isInstant = (ms: number): boolean => Number.isFinite(ms) && ms >= 0 && ms <= maxInstantMs;
export const isDuration = (ms: number): boolean => Number.isFinite(ms) && Math.abs(ms) <= maxDurationMs;

/** An instant in ms since 1970, bounded. */
export const instantMs = z.number({ error: `must be ${instantText}` }).refine(isInstant, `must be ${instantText}`);

/** An ISO date-time between 1970 and 9999. */
export const isoInstant = (field: string) =>
  z.iso
    .datetime({ offset: true, error: `${field} must be an ISO date-time like "2030-01-01T00:00:00Z"` })
    .refine((text) => isInstant(Date.parse(text)), `${field} must be ${instantText}`);
