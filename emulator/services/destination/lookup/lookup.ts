/**
 * The lookup part of the gateway: the v1 find API (instance level first, then subaccount level, fragments,
 * certificates, ETags, authTokens, destination chains) and the v2 consume API (consume.ts), both for an
 * authenticated caller (caller.ts).
 */
import { didYouMean } from '../../../core/name-hints.ts';
import { etagOf, type ServiceResult } from '../../../core/service-result.ts';
import { DestinationError, destinationNotFound } from '../errors.ts';
import { expandPlaceholders, withoutCredentials, type DestinationProps } from '../schema.ts';
import type { Level, LevelStore } from '../state.ts';
import { callerLevel, type Caller } from './caller.ts';
import { conditional, type FindOptions, type FindResponseBody, type LookupDeps } from './common.ts';
import { consume, type ConsumeOptions } from './consume.ts';
import { runChain } from './destination-chains.ts';

const truthy = (value: string | null | undefined): boolean => value?.toLowerCase() === 'true';
const nonEmpty = (value: string | null): string | undefined => (value && value.trim() ? value.trim() : undefined);

export class DestinationLookup {
  private readonly deps: LookupDeps;
  constructor(deps: LookupDeps) {
    this.deps = deps;
  }

  /** The store a caller addresses (see {@link callerLevel}). */
  level(caller: Caller, level: Level): LevelStore {
    return callerLevel(this.deps.state(), caller, level);
  }

  /** `GET /v1/destinations/{name}`. */
  async find(caller: Caller, name: string, options: FindOptions): Promise<ServiceResult> {
    const headers = options.headers;
    if (headers.get('x-chain-name')?.trim()) return runChain((...args) => this.find(...args), caller, name, options);
    const xUserToken = nonEmpty(headers.get('x-user-token'));
    const xTenant = nonEmpty(headers.get('x-tenant'));
    if (xUserToken && xTenant) throw new DestinationError(400, 'The headers X-user-token and X-tenant must not be sent together');

    const instanceLevel = this.level(caller, 'instance');
    const subaccountLevel = this.level(caller, 'subaccount');
    const onInstance = instanceLevel.destinations.get(name);
    const hit = onInstance ?? subaccountLevel.destinations.get(name);
    if (!hit) throw destinationNotFound(notFoundReason(name, caller, instanceLevel, subaccountLevel));
    const store = onInstance ? instanceLevel : subaccountLevel;

    const cfg = expandPlaceholders(applyFragments({ ...hit.props }, store, headers), this.deps.placeholders());
    const etag = etagOf(cfg);
    const notModified = conditional(headers, etag);
    if (notModified) return notModified;

    const body: FindResponseBody = {
      owner: { SubaccountId: caller.tenant.subaccountId, InstanceId: onInstance ? caller.instanceid : null },
      destinationConfiguration: options.skipCredentials ? withoutCredentials(cfg) : cfg,
    };
    const certificates = this.deps.certificates.of(cfg, store, subaccountLevel, options.skipTokenRetrieval === true);
    if (certificates.length) body.certificates = certificates;
    if (!options.skipTokenRetrieval) {
      const authTokens = await this.deps.authTokens.retrieve(caller, headers, cfg, store, subaccountLevel);
      if (authTokens) body.authTokens = authTokens;
    }
    return { status: 200, body, headers: { ETag: etag } };
  }

  /** `GET /v2/destinations/{name}[@{level}]`. */
  consume(caller: Caller, reference: string, options: ConsumeOptions): Promise<ServiceResult> {
    return consume(this.deps, caller, reference, options);
  }
}

function applyFragments(cfg: DestinationProps, store: LevelStore, headers: Headers): DestinationProps {
  const names = (headers.get('x-fragment-name') ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (!names.length) return cfg;
  const optional = names.length === 1 && truthy(headers.get('x-fragment-optional'));
  const applied: string[] = [];
  for (const fragmentName of names) {
    const fragment = store.fragments.get(fragmentName);
    if (!fragment) {
      if (optional) continue;
      throw new DestinationError(404, `Fragment "${fragmentName}" was not found on the level of destination "${cfg.Name}"`);
    }
    const { FragmentName: _ignored, ...props } = fragment.props;
    Object.assign(cfg, props);
    applied.push(fragmentName);
  }
  if (applied.length) cfg.FragmentName = applied.join(',');
  return cfg;
}

/** Why a lookup found nothing, with the nearest existing names of both levels (journal and X-Emulator-Reason). */
function notFoundReason(name: string, caller: Caller, instance: LevelStore, subaccount: LevelStore): string {
  const hint = didYouMean(name, [...instance.destinations.keys(), ...subaccount.destinations.keys()]);
  return `destination \`${name}\` exists neither on the instance level nor on the subaccount level of \`${caller.tenant.subdomain}\`${hint ? `; ${hint}` : ' (names are case-sensitive)'}`;
}
