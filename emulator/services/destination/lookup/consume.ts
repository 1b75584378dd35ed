/**
 * The v2 consume API, `GET /v2/destinations/{name}[@{level}]`: one explicit level (default `instance`, no
 * fallback), fragments with their own `@level`, no `owner` unless `$includeMetadata=owner` (or the help
 * page's `includeMetadata=owner`) asks for `destinationConfiguration.$metadata.owner`. Levels:
 * `subaccount`/`instance` of the caller's tenant, `provider_subaccount`/`provider_instance` of the provider.
 */
import { etagOf, type ServiceResult } from '../../../core/service-result.ts';
import { levelStore, type LevelStore } from '../state.ts';
import { expandPlaceholders, withoutCredentials, type DestinationProps } from '../schema.ts';
import { withSubscriptionZones } from './subscription-zones.ts';
import type { Caller } from './caller.ts';
import { conditional, type LookupDeps } from './common.ts';
import { DestinationError, destinationNotFound } from '../errors.ts';

export const consumeLevels = ['provider_subaccount', 'provider_instance', 'subaccount', 'instance'] as const;
export type ConsumeLevel = (typeof consumeLevels)[number];

export interface ConsumeOptions {
  headers: Headers;
  query: (name: string) => string | undefined;
}

interface Owner {
  SubaccountId: string;
  InstanceId: string | null;
}

interface ResolvedLevel {
  level: ConsumeLevel;
  store: LevelStore;
  subaccount: LevelStore;
  owner: Owner;
  subaccountOwner: Owner;
}

const flag = (v: string | undefined): boolean => v?.toLowerCase() === 'true';

/** `name@level` → name and level; without `@level` the default. An unknown level is a 400 naming it. */
export function splitLevel(reference: string, fallback: ConsumeLevel, what: string): { name: string; level: ConsumeLevel } {
  const at = reference.lastIndexOf('@');
  if (at < 0) return { name: reference, level: fallback };
  const level = reference.slice(at + 1);
  if (!(consumeLevels as readonly string[]).includes(level)) {
    throw new DestinationError(400, `Unknown level "${level}" in ${what} "${reference}"; use one of ${consumeLevels.join(', ')}`);
  }
  return { name: reference.slice(0, at), level: level as ConsumeLevel };
}

function resolveLevel(deps: LookupDeps, caller: Caller, level: ConsumeLevel): ResolvedLevel {
  const state = deps.state();
  const tenant = level.startsWith('provider_') ? state.provider : caller.tenant;
  const instance = level.endsWith('instance') ? caller.instanceid : null;
  const subaccountOwner = { SubaccountId: tenant.subaccountId, InstanceId: null };
  return {
    level,
    // The caller's own instance level includes what the application shares with subscribers (as in v1).
    store:
      instance && tenant === caller.tenant
        ? withSubscriptionZones(state, tenant, instance, levelStore(state, tenant.zid, instance))
        : levelStore(state, tenant.zid, instance),
    subaccount: levelStore(state, tenant.zid, null),
    owner: { SubaccountId: tenant.subaccountId, InstanceId: instance },
    subaccountOwner,
  };
}

export async function consume(deps: LookupDeps, caller: Caller, reference: string, options: ConsumeOptions): Promise<ServiceResult> {
  const { headers } = options;
  if (headers.get('x-chain-name')?.trim())
    throw new DestinationError(400, 'Destination chains (X-chain-name) are supported by the v1 find API only, not by /v2/destinations');
  if (headers.get('x-user-token')?.trim() && headers.get('x-tenant')?.trim())
    throw new DestinationError(400, 'The headers X-user-token and X-tenant must not be sent together');
  const metadata = options.query('$includeMetadata') ?? options.query('includeMetadata');
  if (metadata !== undefined && metadata !== 'owner')
    throw new DestinationError(400, `$includeMetadata "${metadata}" is not supported here; the consume API knows only "owner"`);

  const target = splitLevel(reference, 'instance', 'the destination');
  const destLevel = resolveLevel(deps, caller, target.level);
  const hit = destLevel.store.destinations.get(target.name);

  const fragmentRefs = (headers.get('x-fragment-name') ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => splitLevel(f, target.level, 'X-fragment-name'));
  const levelsUsed = new Set([target.level, ...fragmentRefs.map((f) => f.level)]);
  if (!caller.tenant.isProvider && levelsUsed.has('subaccount') && levelsUsed.size > 1) {
    throw new DestinationError(
      400,
      `A subscriber may not combine the subaccount level with other levels in one request (levels used: ${[...levelsUsed].join(', ')})`,
    );
  }
  if (!hit) throw destinationNotFound();

  let cfg: DestinationProps = { ...hit.props };
  const fragmentOwners: ({ FragmentName: string } & Owner)[] = [];
  const optional = fragmentRefs.length === 1 && flag(headers.get('x-fragment-optional') ?? undefined);
  for (const ref of fragmentRefs) {
    const fragLevel = resolveLevel(deps, caller, ref.level);
    const fragment = fragLevel.store.fragments.get(ref.name);
    if (!fragment) {
      if (optional) continue;
      throw new DestinationError(404, `Fragment "${ref.name}" was not found on level ${ref.level}`);
    }
    const { FragmentName: _name, ...props } = fragment.props;
    cfg = { ...cfg, ...props };
    fragmentOwners.push({ FragmentName: ref.name, ...fragLevel.owner });
  }
  if (fragmentOwners.length) cfg.FragmentName = fragmentOwners.map((f) => f.FragmentName).join(',');
  cfg = expandPlaceholders(cfg, deps.placeholders());

  const etag = etagOf(cfg);
  const notModified = conditional(headers, etag);
  if (notModified) return notModified;

  const skipTokenRetrieval = flag(options.query('$skipTokenRetrieval'));
  const certificates = deps.certificates.of(cfg, destLevel.store, destLevel.subaccount, skipTokenRetrieval);
  const configuration: Record<string, unknown> = flag(options.query('$skipCredentials')) ? withoutCredentials(cfg) : { ...cfg };
  if (metadata === 'owner') {
    configuration.$metadata = {
      owner: {
        destinations: [{ Name: target.name, ...destLevel.owner }],
        certificates: certificates.map((c) => ({
          Name: c.Name,
          ...(destLevel.store.certificates.has(c.Name) ? destLevel.owner : destLevel.subaccountOwner),
        })),
        fragments: fragmentOwners,
      },
    };
  }
  const body: Record<string, unknown> = { destinationConfiguration: configuration };
  if (certificates.length) body.certificates = certificates;
  if (!skipTokenRetrieval) {
    const authTokens = await deps.authTokens.retrieve(caller, headers, cfg, destLevel.store, destLevel.subaccount);
    if (authTokens) body.authTokens = authTokens;
  }
  return { status: 200, body, headers: { ETag: etag } };
}
