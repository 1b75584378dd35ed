/**
 * Fault injection, without any transport: the list of active faults and the decision which one a request
 * meets. The core's middleware, the connectivity proxy, SOCKS5 and the fake backend all ask this one list,
 * so a fault added through the control API or the handle is seen by every face at once. Times (`durationMs`,
 * `until`, rate-limit windows) are on the emulator's clock.
 */
import { parseWith, ValidationError } from './validation.ts';
import type { Clock } from './clock.ts';
import {
  faultSpecSchema,
  faultStateSchema,
  type FaultEffect,
  type FaultEffectKind,
  type FaultService,
  type FaultTarget,
} from './fault-schema.ts';
import { instantText, isInstant } from './time-bounds.ts';

export type { FaultEffect, FaultEffectKind, FaultService, FaultSpec, FaultTarget } from './fault-schema.ts';

/** A fault as listed: its spec plus what it has done so far. */
export interface Fault {
  id: string;
  target: FaultTarget;
  effect: FaultEffect;
  /** Requests it may still change (from `times`); it removes itself at 0. */
  remaining?: number;
  times?: number;
  /** Matching requests it lets through before it applies (from `skip`), and how many it has let through. */
  skip?: number;
  skipped?: number;
  /** ISO time on the emulator clock after which it is gone (from `durationMs` or `until`). */
  until?: string;
  /** ISO time it was added. */
  added: string;
  /** Requests it changed. */
  hits: number;
}

/** One request as a fault sees it; fields a service cannot tell stay undefined (a fault naming them does not match). */
export interface FaultRequest {
  service: FaultService;
  method: string;
  /** The path without the query (for the backend its route; for the proxy the virtual target's path). */
  path: string;
  /** Subdomain and zone id, when known. */
  tenant?: { subdomain?: string; zid?: string };
  /** The destination name of a Destination Service lookup. */
  destination?: string;
  /** The Cloud Connector location ID of proxy traffic ('' = the default connector). */
  locationId?: string;
  /** The OAuth client: of a token request (XSUAA), else of the bearer / proxy token. */
  clientId?: string;
}

/** What a request meets: the fault and the one thing it does to it. */
export interface FaultDecision {
  fault: Fault;
  kind: FaultEffectKind;
  /** Wait this long first (0 = not at all). */
  latencyMs: number;
  /** For `status` and `rateLimit`: the answer to send instead of the real one. */
  response?: { status: number; headers: Record<string, string>; body: string };
  /** For `tokenValidity`: the lifetime cap in seconds. */
  tokenValidity?: number;
}

interface RateWindow {
  start: number;
  used: number;
}

/** The journal fields of a request a fault touched. */
export const faultJournalFields = (decision: FaultDecision): { fault: string; faultEffect: FaultEffectKind } => ({
  fault: decision.fault.id,
  faultEffect: decision.kind,
});

/** The words the journal's `reason` carries for a request a fault answered. */
export function describeFault(decision: FaultDecision): string {
  const id = decision.fault.id;
  if (decision.kind === 'drop') return `fault ${id}: connection dropped without an answer`;
  if (decision.kind === 'rateLimit')
    return `fault ${id}: rate limit of ${decision.fault.effect.rateLimit?.limit} per ${decision.fault.effect.rateLimit?.windowMs} ms reached`;
  return `fault ${id}: status ${decision.response?.status}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What proxy traffic meets: a fault's decision (its latency already waited) and, unless that answers, an offline connector. */
export interface ProxyFaults {
  decision?: FaultDecision;
  offline?: Fault;
  /** The journal fields for the request, when a fault touched it. */
  journal?: { fault: string; faultEffect: FaultEffectKind };
}

/** For the proxies: decide, wait the latency, then look for an offline fault on the connector (unless the decision answers). */
export async function meetProxyFaults(faults: FaultList, request: FaultRequest): Promise<ProxyFaults> {
  if (faults.empty) return {};
  const decision = faults.decide(request);
  if (decision && decision.latencyMs > 0) await sleep(decision.latencyMs);
  const answers = decision && (decision.response || decision.kind === 'drop');
  const offline = answers ? undefined : faults.offline(request);
  const journal = offline ? { fault: offline.id, faultEffect: 'offline' as const } : decision ? faultJournalFields(decision) : undefined;
  return { decision, offline, journal };
}

export class FaultList {
  private faults: Fault[] = [];
  private readonly windows = new Map<string, RateWindow>();
  private nextId = 1;
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Add a fault (or replace the one with the same id); a bad spec throws a ValidationError and changes nothing. */
  add(input: unknown): Fault {
    const spec = parseWith(faultSpecSchema, input, 'fault');
    const now = this.clock.now();
    if (spec.durationMs !== undefined && !isInstant(now + spec.durationMs))
      throw new ValidationError('fault', [
        { path: 'durationMs', message: `durationMs would end after the emulator clock's last date (${instantText})` },
      ]);
    const until =
      spec.until !== undefined
        ? new Date(Date.parse(spec.until)).toISOString()
        : spec.durationMs !== undefined
          ? new Date(now + spec.durationMs).toISOString()
          : undefined;
    const fault: Fault = {
      id: spec.id ?? this.freshId(),
      target: spec.target,
      effect: spec.effect,
      ...(spec.times !== undefined ? { times: spec.times, remaining: spec.times } : {}),
      ...(spec.skip ? { skip: spec.skip, skipped: 0 } : {}),
      ...(until !== undefined ? { until } : {}),
      added: new Date(now).toISOString(),
      hits: 0,
    };
    this.faults = [...this.faults.filter((f) => f.id !== fault.id), fault];
    this.windows.delete(fault.id);
    return fault;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    this.windows.delete(id);
    return this.faults.length < before;
  }

  clear(): void {
    this.faults = [];
    this.windows.clear();
  }

  /** The faults and the id counter, for a snapshot (rate-limit windows start afresh after a restore). */
  exportState(): { faults: Fault[]; nextId: number } {
    this.expire();
    return { faults: structuredClone(this.faults), nextId: this.nextId };
  }

  /** Checks a snapshot's fault list (a ValidationError names the field) and returns what puts it in place. */
  prepareRestore(value: unknown): () => void {
    const state = parseWith(faultStateSchema, value, 'faults');
    return () => {
      this.faults = state.faults as Fault[];
      this.nextId = state.nextId;
      this.windows.clear();
    };
  }

  /** The active faults, oldest first (expired ones are dropped on the way). */
  list(): Fault[] {
    this.expire();
    return this.faults;
  }

  get(id: string): Fault | undefined {
    return this.list().find((f) => f.id === id);
  }

  /** True when some active fault narrows by OAuth client (then a token request's form is read to find it). */
  get narrowsByClient(): boolean {
    return this.faults.some((f) => f.target.clientId !== undefined);
  }

  /** True when no fault is active: the hot paths skip all matching then. */
  get empty(): boolean {
    return this.faults.length === 0 || this.list().length === 0;
  }

  /**
   * The fault this request meets, if any: the newest matching one that changes this kind of request. A rate
   * limit still within its window's budget counts the request and lets it through to older faults.
   * Counts the hit (and `times`) of the fault returned.
   */
  decide(request: FaultRequest): FaultDecision | undefined {
    if (this.empty) return undefined;
    for (let i = this.faults.length - 1; i >= 0; i--) {
      const fault = this.faults[i];
      if (fault.effect.offline || !matches(fault.target, request) || !changes(fault.effect, request) || this.skips(fault)) continue;
      const decision = this.decision(fault);
      if (!decision) continue;
      this.hit(fault);
      return decision;
    }
    return undefined;
  }

  /** The offline fault for this tenant's Cloud Connector at this location, if any (counts the hit). */
  offline(request: FaultRequest): Fault | undefined {
    if (this.empty) return undefined;
    for (let i = this.faults.length - 1; i >= 0; i--) {
      const fault = this.faults[i];
      if (!fault.effect.offline || !matches(fault.target, request) || this.skips(fault)) continue;
      this.hit(fault);
      return fault;
    }
    return undefined;
  }

  /** The offline fault covering this connector, without counting a hit (for listings such as scc_info). */
  peekOffline(request: FaultRequest): Fault | undefined {
    if (this.empty) return undefined;
    return this.faults.findLast((f) => f.effect.offline && matches(f.target, request));
  }

  private decision(fault: Fault): FaultDecision | undefined {
    const effect = fault.effect;
    const latencyMs = effect.latencyMs ?? 0;
    if (effect.rateLimit) {
      const retryAfter = this.overBudget(fault.id, effect.rateLimit);
      if (retryAfter === undefined) return undefined;
      const body = JSON.stringify({
        error: 'rate_limited',
        message: `too many requests: ${effect.rateLimit.limit} per ${effect.rateLimit.windowMs} ms (fault ${fault.id})`,
      });
      return {
        fault,
        kind: 'rateLimit',
        latencyMs,
        response: { status: 429, headers: { 'content-type': 'application/json', 'retry-after': String(retryAfter) }, body },
      };
    }
    if (effect.status !== undefined) {
      const json = effect.body !== undefined && typeof effect.body !== 'string';
      const body =
        effect.body === undefined
          ? JSON.stringify({ error: 'fault', message: `status ${effect.status} from fault ${fault.id}` })
          : json
            ? JSON.stringify(effect.body)
            : String(effect.body);
      const type = effect.body === undefined || json ? 'application/json' : 'text/plain; charset=utf-8';
      return {
        fault,
        kind: 'status',
        latencyMs,
        response: { status: effect.status, headers: { 'content-type': type, ...effect.headers }, body },
      };
    }
    if (effect.drop) return { fault, kind: 'drop', latencyMs };
    if (effect.tokenValidity !== undefined) return { fault, kind: 'tokenValidity', latencyMs, tokenValidity: effect.tokenValidity };
    return { fault, kind: 'latency', latencyMs };
  }

  /** Seconds until the window has budget again, or undefined while the request fits into it (then it is counted). */
  private overBudget(id: string, limit: { limit: number; windowMs: number }): number | undefined {
    const now = this.clock.now();
    let window = this.windows.get(id);
    if (!window || now - window.start >= limit.windowMs || now < window.start) this.windows.set(id, (window = { start: now, used: 0 }));
    if (window.used < limit.limit) {
      window.used++;
      return undefined;
    }
    return Math.max(1, Math.ceil((window.start + limit.windowMs - now) / 1000));
  }

  /** True (and counted) while the fault still lets matching requests through (`skip`). */
  private skips(fault: Fault): boolean {
    if (fault.skip === undefined || fault.skipped === undefined || fault.skipped >= fault.skip) return false;
    fault.skipped++;
    return true;
  }

  private hit(fault: Fault): void {
    fault.hits++;
    if (fault.remaining === undefined) return;
    fault.remaining--;
    if (fault.remaining <= 0) this.remove(fault.id);
  }

  private expire(): void {
    const now = this.clock.now();
    if (this.faults.some((f) => f.until !== undefined && Date.parse(f.until) <= now)) {
      this.faults = this.faults.filter((f) => f.until === undefined || Date.parse(f.until) > now);
    }
  }

  private freshId(): string {
    let id: string;
    do id = `fault-${this.nextId++}`;
    while (this.faults.some((f) => f.id === id));
    return id;
  }
}

function matches(target: FaultTarget, request: FaultRequest): boolean {
  if (target.service !== undefined && target.service !== request.service) return false;
  if (target.method !== undefined && target.method !== request.method.toUpperCase()) return false;
  if (target.path !== undefined && !request.path.startsWith(target.path)) return false;
  if (target.destination !== undefined && target.destination !== request.destination) return false;
  if (target.locationId !== undefined && target.locationId !== request.locationId) return false;
  if (target.clientId !== undefined && target.clientId !== request.clientId) return false;
  if (target.tenant !== undefined && target.tenant !== request.tenant?.subdomain && target.tenant !== request.tenant?.zid) return false;
  return true;
}

/** Whether a fault's effect can change a request of this service (e.g. no status on a SOCKS5 connection). */
function changes(effect: FaultEffect, request: FaultRequest): boolean {
  if (effect.tokenValidity !== undefined) return request.service === 'xsuaa' && request.path === '/oauth/token';
  if (effect.status !== undefined || effect.rateLimit !== undefined) return request.service !== 'socks5';
  return true;
}
