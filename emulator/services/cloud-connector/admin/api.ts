/**
 * The Cloud Connector's REST configuration API and its admin console, on a port of their own (8443, TLS; the Node
 * listener is emulator/server/cloud-connector-api-server.ts). One installation per location ID: the instance URL
 * `https://host:8443` is the default location's, `https://host:8443/locations/<id>` another location's, and
 * `…/shadow` after either its high-availability shadow. Every answer reads and changes the one Cloud Connector
 * state (state.ts) that the proxies, the scenario and `/_emulator/cloud-connectors` use. docs/cloud-connector.md.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../../core/app-env.ts';
import { basicCredentials } from '../../../core/auth-header.ts';
import type { ChangeNotifier } from '../../../core/change-notifier.ts';
import type { Clock } from '../../../core/clock.ts';
import type { FaultList } from '../../../core/faults.ts';
import { HttpError } from '../../../core/http-error.ts';
import { entryTiming, type Journal } from '../../../core/journal.ts';
import { bodyLimitMiddleware, type InputLimits } from '../../../core/limits.ts';
import type { RequestGuard } from '../../../core/request-guard.ts';
import type { Tenant } from '../../../core/subaccount.ts';
import { haGate, offlineSinceOf, shadowReady, switchingUntil } from '../ha.ts';
import {
  channelTypes,
  cloudConnectorSchema,
  mappingProtocols,
  sccInstanceSchema,
  systemMappingSchema,
  type SccInstance,
  type SccUser,
  type ServiceChannelConfig,
  type SystemMappingConfig,
} from '../schema.ts';
import { sccInstanceOf, type CloudConnector, type OnPremView } from '../state.ts';
import { certificateAnswer, type CertificatePems } from './certificates.ts';
import { consolePage } from './console.ts';
import { conflict, forbidden, invalid, notFound, SccApiError } from './errors.ts';
import {
  channelView,
  decodeResourceId,
  domainMappingView,
  proxyView,
  regionHostOf,
  resourcesOf,
  resourceView,
  subaccountListEntry,
  subaccountView,
  systemMappingView,
  type TunnelState,
} from './views.ts';

/** What the Cloud Connector reports as its version (the provider checks it before each operation). */
export const sccVersion = '2.19.0.2';

export interface CloudConnectorApiContext {
  state(): OnPremView;
  clock: Pick<Clock, 'now'>;
  faults: Pick<FaultList, 'peekOffline'>;
  journal: Pick<Journal, 'record'>;
  changes: ChangeNotifier;
  guard: RequestGuard;
  limits: Required<InputLimits>;
  /** The certificates the `…/systemCertificate`, `…/ppCaCertificate` and `…/uiCertificate` endpoints show. */
  certificates(): CertificatePems;
}

type Installation = 'primary' | 'shadow';

/** Where a request is: which location's installation, which of the pair, and the URL base of its links. */
interface Where {
  locationId: string;
  installation: Installation;
  base: string;
  /** The path after the instance prefix, e.g. `/api/v1/connector/version`. */
  rest: string;
  /** A request that may change state: only such a request adds a location's installation settings. */
  write: boolean;
}

function whereOf(url: URL, method: string): Where | undefined {
  const match = /^(\/locations\/([^/]+))?(\/shadow)?(\/.*)?$/.exec(url.pathname);
  if (!match) return undefined;
  let locationId: string;
  try {
    locationId = match[2] === undefined ? '' : decodeURIComponent(match[2]);
  } catch {
    return undefined;
  }
  return {
    locationId,
    installation: match[3] ? 'shadow' : 'primary',
    base: `${url.origin}${match[1] ?? ''}${match[3] ?? ''}`,
    rest: match[4] ?? '/',
    write: method !== 'GET' && method !== 'HEAD',
  };
}

const configBase = '/api/v1/configuration';

/** `"true"`/`"false"` or a boolean, as the provider sends either. */
const boolish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
/** A whole number or its decimal string. */
const intish = z.union([z.number().int(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)]);
const portish = intish.pipe(z.number().int().min(1, 'a port is 1 to 65535').max(65535, 'a port is 1 to 65535'));

function parseBody<T extends z.ZodType>(schema: T, body: unknown, what: string): z.output<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || what;
  throw invalid(`Invalid ${what}: ${field}: ${issue.message}`);
}

const subaccountCreateBody = z.object({
  regionHost: z.string().min(1).optional(),
  subaccount: z.string().min(1).optional(),
  cloudUser: z.string().min(1).optional(),
  cloudPassword: z.string().min(1).optional(),
  authenticationData: z.string().min(1).optional(),
  locationID: z.string().default(''),
  displayName: z.string().optional(),
  description: z.string().optional(),
  autoCertRenewal: boolish.optional(),
  isManaged: boolish.optional(),
});

const subaccountUpdateBody = z.object({
  locationID: z.string().optional(),
  displayName: z.string().optional(),
  description: z.string().optional(),
  autoCertRenewal: boolish.optional(),
  cloudUser: z.string().optional(),
  cloudPassword: z.string().optional(),
});

const systemMappingBody = z.object({
  virtualHost: z.string().min(1, 'virtualHost is required'),
  virtualPort: portish,
  localHost: z.string().min(1, 'localHost is required'),
  localPort: portish,
  protocol: z.enum(mappingProtocols, { error: `protocol must be one of ${mappingProtocols.join(', ')}` }).default('HTTP'),
  backendType: z.string().optional(),
  hostInHeader: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(['virtual', 'internal'], { error: 'hostInHeader must be VIRTUAL or INTERNAL' }))
    .optional(),
  authenticationMode: z.string().optional(),
  sid: z.string().optional(),
  description: z.string().optional(),
});

const resourceBody = z.object({
  id: z.string().startsWith('/', 'a resource id is a path starting with /').optional(),
  enabled: boolish.optional(),
  exactMatchOnly: boolish.optional(),
  websocketUpgradeAllowed: boolish.optional(),
  description: z.string().optional(),
});

const domainMappingBody = z.object({ virtualDomain: z.string().min(1), internalDomain: z.string().min(1) });

const channelBody = z.object({
  k8sCluster: z.string().min(1).optional(),
  k8sService: z.string().min(1).optional(),
  abapCloudTenantHost: z.string().min(1).optional(),
  instanceNumber: intish.pipe(z.number().int().min(0).max(99, 'instanceNumber is 00 to 99')).optional(),
  port: portish.optional(),
  connections: intish.pipe(z.number().int().min(1, 'connections is at least 1')).optional(),
  comment: z.string().optional(),
});

const stateBody = z.object({ connected: boolish });
const channelStateBody = z.object({ enabled: boolish });
const proxyBody = z.object({ host: z.string().min(1), port: portish, user: z.string().optional(), password: z.string().optional() });
const ruleBody = z.object({
  condition: z.union([z.string(), z.object({ variable: z.string().min(1), operator: z.string().min(1), value: z.string() })]).optional(),
  description: z.string().optional(),
  subjectPattern: z.record(z.string(), z.string()),
});
const masterConfigBody = z.object({ haEnabled: boolish.optional(), haPort: portish.optional(), allowedShadowHost: z.string().optional() });
const shadowConfigBody = z.object({
  masterHost: z.string().min(1).optional(),
  masterPort: portish.optional(),
  ownHost: z.string().min(1).optional(),
  haPort: portish.optional(),
  checkIntervalInSeconds: intish.optional(),
  takeoverDelayInSeconds: intish.optional(),
  connectTimeoutInMillis: intish.optional(),
  requestTimeoutInMillis: intish.optional(),
});
const passwordBody = z.object({
  oldPassword: z.string().optional(),
  newPassword: z.string().min(8, 'the new password has at least 8 characters'),
});

/** A request as the routes see it. */
interface Call {
  c: Context<AppEnv>;
  where: Where;
  params: Record<string, string>;
  user: SccUser;
  now: number;
}

type Handler = (call: Call) => Response | Promise<Response>;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
  /** Allowed on an installation that is the shadow now (the master's configuration is refused there). */
  onShadow?: boolean;
  /** Allowed on the master (the shadow's configuration is refused there). */
  onMaster?: boolean;
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const noContent = (): Response => new Response(null, { status: 204 });
const created = (location: string, body?: unknown): Response =>
  body === undefined ? new Response(null, { status: 201, headers: { location } }) : json(body, 201, { location });

export function createCloudConnectorApi(ctx: CloudConnectorApiContext): { fetch(request: Request): Promise<Response> } {
  const routes: Route[] = [];
  const route = (
    method: string,
    path: string,
    handler: Handler,
    flags: Pick<Route, 'onShadow' | 'onMaster'> = { onMaster: true },
  ): void => {
    routes.push({ method, parts: path.split('/').filter(Boolean), handler, ...flags });
  };

  const api = (): OnPremView['onPrem']['sccApi'] => ctx.state().onPrem.sccApi;
  /** A location's installation settings; a read of a location never configured sees the defaults and adds nothing. */
  const instanceOf = (where: Where): SccInstance => {
    const existing = api().instances.find((i) => i.locationId === where.locationId);
    if (existing) return existing;
    if (!where.write) return sccInstanceSchema.parse({ locationId: where.locationId });
    if (api().instances.length >= ctx.limits.maxEntitiesPerLevel)
      throw conflict(`This emulator already has ${api().instances.length} Cloud Connector installations (maxEntitiesPerLevel)`);
    return sccInstanceOf(api(), where.locationId);
  };
  /** Refuses to grow a list past the emulator's bound (maxEntitiesPerLevel), before anything changes. */
  const bounded = <T>(list: T[], what: string): T[] => {
    if (list.length >= ctx.limits.maxEntitiesPerLevel)
      throw conflict(`There are already ${list.length} ${what}, the most this emulator keeps (maxEntitiesPerLevel)`);
    return list;
  };

  /** The role of an installation now: the recorded master, swapped while a connected shadow serves an offline master. */
  function roleOf(where: Where, now: number): 'master' | 'shadow' {
    const instance = instanceOf(where);
    let master = instance.ha.master;
    if (shadowReady(instance) && tunnelsOf(where.locationId, now).some((t) => t.gate === 'shadow'))
      master = master === 'primary' ? 'shadow' : 'primary';
    return master === where.installation ? 'master' : 'shadow';
  }

  function tunnelOf(tenant: Tenant, connector: CloudConnector, now: number): { state: TunnelState; gate: string } {
    const instance = api().instances.find((i) => i.locationId === connector.locationId);
    const fault = ctx.faults.peekOffline({
      service: 'connectivity-proxy',
      method: 'GET',
      path: '',
      tenant: { subdomain: tenant.subdomain, zid: tenant.zid },
      locationId: connector.locationId,
    });
    const gate = haGate(
      instance,
      {
        down: !connector.online || fault !== undefined,
        offlineSince: offlineSinceOf(instance?.offlineSince[tenant.zid], connector.online, fault ? Date.parse(fault.added) : undefined),
      },
      now,
    );
    if (gate.kind === 'master') return { state: 'Connected', gate: gate.kind };
    if (gate.kind === 'shadow') return { state: 'Connected', gate: gate.kind };
    if (!connector.online) return { state: 'Disconnected', gate: gate.kind };
    return { state: 'ConnectFailure', gate: gate.kind };
  }

  function tunnelsOf(locationId: string, now: number): { gate: string }[] {
    const state = ctx.state();
    return state.tenants.flatMap((t) =>
      (state.onPrem.connectors.get(t.zid) ?? []).filter((c) => c.locationId === locationId).map((c) => tunnelOf(t, c, now)),
    );
  }

  /** The subaccounts of a location's installation: each tenant's connector with that location ID. */
  function subaccountsOf(locationId: string): { tenant: Tenant; connector: CloudConnector }[] {
    const state = ctx.state();
    return state.tenants.flatMap((tenant) =>
      (state.onPrem.connectors.get(tenant.zid) ?? [])
        .filter((c) => c.locationId === locationId)
        .map((connector) => ({ tenant, connector })),
    );
  }

  function subaccountOf(call: Call): { tenant: Tenant; connector: CloudConnector; href: string } {
    const { region, subaccount } = call.params;
    const found = subaccountsOf(call.where.locationId).find(
      (s) => s.tenant.subaccountId === subaccount && regionHostOf(s.connector, api()) === region,
    );
    if (!found) throw notFound(`Subaccount with value '${subaccount}@${region}' does not exist`);
    return { ...found, href: `${call.where.base}${configBase}/subaccounts/${region}/${subaccount}` };
  }

  function view(call: Call, tenant: Tenant, connector: CloudConnector) {
    const tunnel = tunnelOf(tenant, connector, call.now);
    return subaccountView(call.where.base, api(), tenant, connector, {
      state: tunnel.state,
      since: connector.connectedSince ?? 0,
      issuerDN: 'CN=BTP Connectivity Emulator CA,O=btp-connectivity-emulator',
    });
  }

  function systemOf(call: Call): { sub: ReturnType<typeof subaccountOf>; system: SystemMappingConfig; href: string } {
    const sub = subaccountOf(call);
    const [host, port] = splitVirtual(call.params.virtual);
    const system = sub.connector.systems.find((s) => s.virtualHost.toLowerCase() === host.toLowerCase() && String(s.virtualPort) === port);
    if (!system) throw notFound(`System mapping with value '${call.params.virtual}' does not exist`);
    return { sub, system, href: `${sub.href}/systemMappings/${system.virtualHost}:${system.virtualPort}` };
  }

  const bodyOf = async (call: Call): Promise<unknown> => {
    const text = await call.c.req.text();
    if (!text.trim()) return {};
    try {
      return JSON.parse(text);
    } catch {
      throw invalid('The request body is not valid JSON');
    }
  };

  // — Version, role, password —
  route('GET', '/api/v1/connector/version', () => json({ version: sccVersion }), { onShadow: true, onMaster: true });
  route(
    'PUT',
    `${configBase}/connector/authentication/basic`,
    async (call) => {
      const body = parseBody(passwordBody, await bodyOf(call), 'password change');
      if (body.newPassword === call.user.password) throw invalid('newPassword must differ from the current password');
      call.user.password = body.newPassword;
      call.user.mustChangePassword = false;
      return noContent();
    },
    { onShadow: true, onMaster: true },
  );

  // — Subaccounts —
  route('GET', `${configBase}/subaccounts`, (call) =>
    json(subaccountsOf(call.where.locationId).map((s) => subaccountListEntry(call.where.base, s.tenant, s.connector, api()))),
  );
  route('POST', `${configBase}/subaccounts`, async (call) => {
    const body = parseBody(subaccountCreateBody, await bodyOf(call), 'subaccount');
    const state = ctx.state();
    let subaccountId = body.subaccount;
    let regionHost = body.regionHost;
    if (body.authenticationData !== undefined) {
      const decoded = decodeAuthenticationData(body.authenticationData);
      subaccountId ??= decoded.subaccount ?? state.provider.subaccountId;
      regionHost ??= decoded.regionHost ?? api().regionHost;
    } else {
      for (const field of ['regionHost', 'subaccount', 'cloudUser', 'cloudPassword'] as const)
        if (body[field] === undefined) throw invalid(`Invalid subaccount: ${field} is required (or send authenticationData instead)`);
    }
    if (body.locationID !== call.where.locationId)
      throw invalid(
        `locationID "${body.locationID}" is not the location of this instance ("${call.where.locationId}"): each location ID is an instance of its own, at /locations/<location ID> of this port`,
      );
    const tenant = state.tenants.find((t) => t.subaccountId === subaccountId || t.zid === subaccountId);
    if (!tenant)
      throw invalid(
        `Subaccount ${subaccountId} is not a subaccount of this emulator (its subaccounts: ${state.tenants.map((t) => `${t.subaccountId} (${t.subdomain})`).join(', ')}); set subaccountId of a tenant in the scenario to use another id`,
      );
    const list = state.onPrem.connectors.get(tenant.zid) ?? [];
    if (list.some((c) => c.locationId === call.where.locationId))
      throw conflict(`Subaccount ${tenant.subaccountId} is already configured with location ID '${call.where.locationId}'`);
    const connector = cloudConnectorSchema.parse({
      locationId: call.where.locationId,
      online: true,
      regionHost: regionHost ?? undefined,
      ...(body.displayName ? { displayName: body.displayName } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.cloudUser !== undefined ? { cloudUser: body.cloudUser } : {}),
      ...(body.autoCertRenewal !== undefined ? { autoCertRenewal: body.autoCertRenewal } : {}),
      ...(body.isManaged !== undefined ? { isManaged: body.isManaged } : {}),
      connectedSince: call.now,
    });
    list.push(connector);
    state.onPrem.connectors.set(tenant.zid, list);
    const shown = view(call, tenant, connector);
    return created(shown._links.self.href, shown);
  });
  route('GET', `${configBase}/subaccounts/:region/:subaccount`, (call) => {
    const { tenant, connector } = subaccountOf(call);
    return json(view(call, tenant, connector));
  });
  route('PUT', `${configBase}/subaccounts/:region/:subaccount`, async (call) => {
    const { tenant, connector } = subaccountOf(call);
    const body = parseBody(subaccountUpdateBody, await bodyOf(call), 'subaccount');
    if (body.locationID !== undefined && body.locationID !== connector.locationId)
      throw invalid(
        `locationID cannot change to "${body.locationID}" here: each location ID is an instance of its own (/locations/<location ID>); delete the subaccount and add it there`,
      );
    if (body.displayName !== undefined) connector.displayName = body.displayName || undefined;
    if (body.description !== undefined) connector.description = body.description;
    if (body.autoCertRenewal !== undefined) connector.autoCertRenewal = body.autoCertRenewal;
    if (body.cloudUser !== undefined) connector.cloudUser = body.cloudUser;
    return json(view(call, tenant, connector));
  });
  route('DELETE', `${configBase}/subaccounts/:region/:subaccount`, (call) => {
    const { tenant, connector } = subaccountOf(call);
    const list = ctx.state().onPrem.connectors.get(tenant.zid) ?? [];
    list.splice(list.indexOf(connector), 1);
    delete instanceOf(call.where).offlineSince[tenant.zid];
    return noContent();
  });
  route('PUT', `${configBase}/subaccounts/:region/:subaccount/state`, async (call) => {
    const { tenant, connector } = subaccountOf(call);
    const body = parseBody(stateBody, await bodyOf(call), 'state');
    if (body.connected && !connector.online) connector.connectedSince = call.now;
    connector.online = body.connected;
    // An administrator's disconnect: not a failure of the master, so no shadow takes over (ha.ts).
    delete instanceOf(call.where).offlineSince[tenant.zid];
    return noContent();
  });
  route('POST', `${configBase}/subaccounts/:region/:subaccount/validity`, async (call) => {
    const { tenant, connector } = subaccountOf(call);
    parseBody(z.object({ user: z.string().min(1), password: z.string().min(1) }), await bodyOf(call), 'validity');
    connector.connectedSince = call.now;
    return json(view(call, tenant, connector));
  });
  route('POST', `${configBase}/subaccounts/:region/:subaccount/trust`, (call) => {
    subaccountOf(call);
    return noContent();
  });
  route('PUT', `${configBase}/subaccounts/:region/:subaccount/trust`, async (call) => {
    subaccountOf(call);
    parseBody(z.object({ autoSyncTrustEnabled: boolish }), await bodyOf(call), 'trust');
    return noContent();
  });

  // — System mappings and their resources —
  const mappingFrom = (body: z.output<typeof systemMappingBody>, existing?: SystemMappingConfig): SystemMappingConfig => {
    const principalType = body.authenticationMode?.startsWith('X509') ? 'X509' : 'none';
    const result = systemMappingSchema.safeParse({
      virtualHost: body.virtualHost,
      virtualPort: body.virtualPort,
      internalHost: body.localHost,
      internalPort: body.localPort,
      protocol: body.protocol,
      hostInHeader: body.hostInHeader ?? 'virtual',
      principalType,
      resources: existing ? resourcesOf(existing) : [],
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.backendType !== undefined ? { backendType: body.backendType } : {}),
      ...(body.sid !== undefined ? { sid: body.sid } : {}),
      ...(body.authenticationMode !== undefined ? { authenticationMode: body.authenticationMode } : {}),
      creationDate: existing?.creationDate ?? ctx.clock.now(),
    });
    if (!result.success) {
      const issue = result.error.issues[0];
      const field = { internalHost: 'localHost', internalPort: 'localPort' }[String(issue.path[0])] ?? issue.path.join('.');
      throw invalid(`Invalid system mapping: ${field}: ${issue.message}`);
    }
    return result.data;
  };
  route('GET', `${configBase}/subaccounts/:region/:subaccount/systemMappings`, (call) => {
    const sub = subaccountOf(call);
    return json(sub.connector.systems.map((s) => systemMappingView(sub.href, s)));
  });
  route('POST', `${configBase}/subaccounts/:region/:subaccount/systemMappings`, async (call) => {
    const sub = subaccountOf(call);
    const system = mappingFrom(parseBody(systemMappingBody, await bodyOf(call), 'system mapping'));
    const key = `${system.virtualHost.toLowerCase()}:${system.virtualPort}`;
    if (sub.connector.systems.some((s) => `${s.virtualHost.toLowerCase()}:${s.virtualPort}` === key))
      throw conflict(`System mapping with value '${system.virtualHost}:${system.virtualPort}' already exists`);
    bounded(sub.connector.systems, 'system mappings').push(system);
    return created(`${sub.href}/systemMappings/${system.virtualHost}:${system.virtualPort}`);
  });
  route('DELETE', `${configBase}/subaccounts/:region/:subaccount/systemMappings`, (call) => {
    subaccountOf(call).connector.systems.length = 0;
    return noContent();
  });
  route('GET', `${configBase}/subaccounts/:region/:subaccount/systemMappings/:virtual`, (call) => {
    const { sub, system } = systemOf(call);
    return json(systemMappingView(sub.href, system));
  });
  route('PUT', `${configBase}/subaccounts/:region/:subaccount/systemMappings/:virtual`, async (call) => {
    const { sub, system } = systemOf(call);
    const body = parseBody(
      systemMappingBody,
      { virtualHost: system.virtualHost, virtualPort: system.virtualPort, ...(await bodyObject(call)) },
      'system mapping',
    );
    if (body.virtualHost.toLowerCase() !== system.virtualHost.toLowerCase() || body.virtualPort !== system.virtualPort)
      throw invalid('virtualHost and virtualPort name the mapping and cannot change; delete it and add a new one');
    const updated = mappingFrom(body, system);
    sub.connector.systems[sub.connector.systems.indexOf(system)] = updated;
    return noContent();
  });
  route('DELETE', `${configBase}/subaccounts/:region/:subaccount/systemMappings/:virtual`, (call) => {
    const { sub, system } = systemOf(call);
    sub.connector.systems.splice(sub.connector.systems.indexOf(system), 1);
    return noContent();
  });
  const bodyObject = async (call: Call): Promise<Record<string, unknown>> => {
    const body = await bodyOf(call);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The request body must be a JSON object');
    return body as Record<string, unknown>;
  };
  const resourcePath = `${configBase}/subaccounts/:region/:subaccount/systemMappings/:virtual/resources`;
  route('GET', resourcePath, (call) => {
    const { system, href } = systemOf(call);
    return json(resourcesOf(system).map((r) => resourceView(href, r, true)));
  });
  route('POST', resourcePath, async (call) => {
    const { system, href } = systemOf(call);
    const body = parseBody(resourceBody.required({ id: true }), await bodyOf(call), 'resource');
    const resources = resourcesOf(system);
    if (system.resources === undefined) system.resources = resources;
    if (resources.some((r) => r.path === body.id)) throw conflict(`Resource with value '${body.id}' already exists`);
    const resource = {
      path: body.id,
      enabled: body.enabled ?? false,
      exactMatchOnly: body.exactMatchOnly ?? true,
      websocketUpgradeAllowed: body.websocketUpgradeAllowed ?? false,
      description: body.description ?? '',
      creationDate: call.now,
    };
    bounded(resources, 'resources').push(resource);
    return created(resourceView(href, resource, false)._links.self!.href);
  });
  const resourceOf = (call: Call) => {
    const found = systemOf(call);
    const id = decodeResourceId(call.params.resource);
    const resource = resourcesOf(found.system).find((r) => r.path === id);
    if (!resource) throw notFound(`Resource with value '${id}' does not exist`);
    if (found.system.resources === undefined) found.system.resources = [resource];
    return { ...found, resource };
  };
  route('GET', `${resourcePath}/:resource`, (call) => {
    const { resource, href } = resourceOf(call);
    return json(resourceView(href, resource, false));
  });
  route('PUT', `${resourcePath}/:resource`, async (call) => {
    const { resource } = resourceOf(call);
    const body = parseBody(resourceBody, await bodyOf(call), 'resource');
    if (body.id !== undefined && body.id !== resource.path)
      throw invalid('id names the resource and cannot change; delete it and add a new one');
    if (body.enabled !== undefined) resource.enabled = body.enabled;
    if (body.exactMatchOnly !== undefined) resource.exactMatchOnly = body.exactMatchOnly;
    if (body.websocketUpgradeAllowed !== undefined) resource.websocketUpgradeAllowed = body.websocketUpgradeAllowed;
    if (body.description !== undefined) resource.description = body.description;
    return noContent();
  });
  route('DELETE', `${resourcePath}/:resource`, (call) => {
    const { system, resource } = resourceOf(call);
    system.resources!.splice(system.resources!.indexOf(resource), 1);
    return noContent();
  });

  // — Domain mappings —
  const domainPath = `${configBase}/subaccounts/:region/:subaccount/domainMappings`;
  route('GET', domainPath, (call) => {
    const sub = subaccountOf(call);
    return json((sub.connector.domainMappings ?? []).map((m) => domainMappingView(sub.href, m)));
  });
  route('POST', domainPath, async (call) => {
    const sub = subaccountOf(call);
    const body = parseBody(domainMappingBody, await bodyOf(call), 'domain mapping');
    const list = (sub.connector.domainMappings ??= []);
    if (list.some((m) => m.internalDomain === body.internalDomain))
      throw conflict(`Domain mapping with value '${body.internalDomain}' already exists`);
    bounded(list, 'domain mappings').push(body);
    return created(domainMappingView(sub.href, body)._links.self.href);
  });
  const domainOf = (call: Call) => {
    const sub = subaccountOf(call);
    const mapping = sub.connector.domainMappings?.find((m) => m.internalDomain === call.params.domain);
    if (!mapping) throw notFound(`Domain mapping with value '${call.params.domain}' does not exist`);
    return { sub, mapping };
  };
  route('PUT', `${domainPath}/:domain`, async (call) => {
    const { mapping } = domainOf(call);
    const body = parseBody(domainMappingBody, await bodyOf(call), 'domain mapping');
    Object.assign(mapping, body);
    return noContent();
  });
  route('DELETE', `${domainPath}/:domain`, (call) => {
    const { sub, mapping } = domainOf(call);
    sub.connector.domainMappings!.splice(sub.connector.domainMappings!.indexOf(mapping), 1);
    return noContent();
  });
  route('DELETE', domainPath, (call) => {
    subaccountOf(call).connector.domainMappings = [];
    return noContent();
  });

  // — Service channels —
  const channelPath = `${configBase}/subaccounts/:region/:subaccount/channels/:type`;
  const channelType = (call: Call): ServiceChannelConfig['type'] | undefined =>
    (channelTypes as readonly string[]).includes(call.params.type) ? (call.params.type as ServiceChannelConfig['type']) : undefined;
  route('GET', channelPath, (call) => {
    const sub = subaccountOf(call);
    const type = channelType(call);
    return json((sub.connector.channels ?? []).filter((ch) => ch.type === type).map((ch) => channelView(sub.href, ch)));
  });
  route('POST', channelPath, async (call) => {
    const sub = subaccountOf(call);
    const type = channelType(call);
    if (!type)
      throw invalid(`Service channels of type ${call.params.type} are not supported here; the types are ${channelTypes.join(', ')}`);
    const body = parseBody(channelBody, await bodyOf(call), 'service channel');
    let port: number;
    if (type === 'K8S') {
      if (!body.k8sCluster || !body.k8sService || body.port === undefined)
        throw invalid('Invalid service channel: k8sCluster, k8sService and port are required');
      port = body.port;
    } else {
      if (!body.abapCloudTenantHost || body.instanceNumber === undefined)
        throw invalid('Invalid service channel: abapCloudTenantHost and instanceNumber are required');
      port = (type === 'ABAPCloudSNC' ? 4800 : 3300) + body.instanceNumber;
    }
    bounded(sub.connector.channels ?? [], 'service channels');
    const instance = instanceOf(call.where);
    const channel: ServiceChannelConfig = {
      id: instance.nextChannelId++,
      type,
      ...(type === 'K8S'
        ? { k8sCluster: body.k8sCluster, k8sService: body.k8sService }
        : { abapCloudTenantHost: body.abapCloudTenantHost, instanceNumber: body.instanceNumber }),
      port,
      connections: body.connections ?? 1,
      comment: body.comment ?? '',
      enabled: false,
    };
    (sub.connector.channels ??= []).push(channel);
    return created(channelView(sub.href, channel)._links.self.href);
  });
  const channelOf = (call: Call) => {
    const sub = subaccountOf(call);
    const channel = sub.connector.channels?.find((ch) => ch.type === call.params.type && String(ch.id) === call.params.id);
    if (!channel) throw notFound(`Service channel with value '${call.params.id}' does not exist`);
    return { sub, channel };
  };
  route('GET', `${channelPath}/:id`, (call) => {
    const { sub, channel } = channelOf(call);
    return json(channelView(sub.href, channel));
  });
  route('PUT', `${channelPath}/:id`, async (call) => {
    const { channel } = channelOf(call);
    const body = parseBody(channelBody, await bodyOf(call), 'service channel');
    if (channel.type === 'K8S') {
      if (body.k8sCluster !== undefined) channel.k8sCluster = body.k8sCluster;
      if (body.k8sService !== undefined) channel.k8sService = body.k8sService;
      if (body.port !== undefined) channel.port = body.port;
    } else if (body.instanceNumber !== undefined) {
      channel.instanceNumber = body.instanceNumber;
      channel.port = (channel.type === 'ABAPCloudSNC' ? 4800 : 3300) + body.instanceNumber;
    }
    if (body.abapCloudTenantHost !== undefined && channel.type !== 'K8S') channel.abapCloudTenantHost = body.abapCloudTenantHost;
    if (body.connections !== undefined) channel.connections = body.connections;
    if (body.comment !== undefined) channel.comment = body.comment;
    return noContent();
  });
  route('DELETE', `${channelPath}/:id`, (call) => {
    const { sub, channel } = channelOf(call);
    sub.connector.channels!.splice(sub.connector.channels!.indexOf(channel), 1);
    return noContent();
  });
  route('PUT', `${channelPath}/:id/state`, async (call) => {
    const { channel } = channelOf(call);
    const body = parseBody(channelStateBody, await bodyOf(call), 'channel state');
    if (body.enabled) {
      const target = channel.type === 'K8S' ? channel.k8sCluster : channel.abapCloudTenantHost;
      // The cloud end of a channel exists only on this machine; anything else cannot be opened, as on a real one.
      if (!isLocalName(target ?? ''))
        throw new SccApiError(
          500,
          'RUNTIME_FAILURE',
          `Service channel could not be opened: ${target} is not reachable from the emulator (only localhost, *.localhost and 127.x are: docs/cloud-connector.md)`,
        );
    }
    channel.enabled = body.enabled;
    return noContent();
  });

  // — Installation-wide settings —
  route('GET', `${configBase}/connector/proxy`, (call) => json(proxyView(instanceOf(call.where))));
  route('PUT', `${configBase}/connector/proxy`, async (call) => {
    const body = parseBody(proxyBody, await bodyOf(call), 'proxy settings');
    instanceOf(call.where).proxy = {
      host: body.host,
      port: body.port,
      ...(body.user ? { user: body.user } : {}),
      ...(body.password ? { password: body.password } : {}),
    };
    return noContent();
  });
  route('DELETE', `${configBase}/connector/proxy`, (call) => {
    delete instanceOf(call.where).proxy;
    return noContent();
  });
  const rulesPath = `${configBase}/connector/onPremises/subjectPatternRules`;
  const ruleFrom = (body: z.output<typeof ruleBody>) => ({
    condition:
      body.condition === undefined
        ? 'always true'
        : typeof body.condition === 'string'
          ? body.condition
          : `${body.condition.variable} ${body.condition.operator} ${body.condition.value}`,
    ...(body.description !== undefined ? { description: body.description } : {}),
    subjectPattern: body.subjectPattern,
  });
  const ruleList = (instance: SccInstance) =>
    instance.subjectPatternRules.map((r) => ({
      ...(r.description !== undefined ? { description: r.description } : {}),
      condition: r.condition,
      subjectPattern: r.subjectPattern,
    }));
  route('GET', rulesPath, (call) => json(ruleList(instanceOf(call.where))));
  route('POST', rulesPath, async (call) => {
    const instance = instanceOf(call.where);
    bounded(instance.subjectPatternRules, 'subject pattern rules').unshift(
      ruleFrom(parseBody(ruleBody, await bodyOf(call), 'subject pattern rule')),
    );
    return created(`${call.where.base}${rulesPath}/0`);
  });
  const ruleIndex = (call: Call): number => {
    const index = Number(call.params.index);
    if (!/^\d+$/.test(call.params.index) || index >= instanceOf(call.where).subjectPatternRules.length)
      throw notFound(`Subject pattern rule with value '${call.params.index}' does not exist`);
    return index;
  };
  route('PUT', `${rulesPath}/:index`, async (call) => {
    const index = ruleIndex(call);
    instanceOf(call.where).subjectPatternRules[index] = ruleFrom(parseBody(ruleBody, await bodyOf(call), 'subject pattern rule'));
    return noContent();
  });
  route('DELETE', `${rulesPath}/:index`, (call) => {
    instanceOf(call.where).subjectPatternRules.splice(ruleIndex(call), 1);
    return noContent();
  });
  route('DELETE', rulesPath, (call) => {
    instanceOf(call.where).subjectPatternRules = [];
    return noContent();
  });
  route('GET', `${configBase}/connector/onPremise/truststore`, (call) => {
    const instance = instanceOf(call.where);
    return json({ trustAllBackends: instance.trustAllBackends, trustedBackends: instance.trustedBackends });
  });
  for (const [path, which] of [
    ['connector/onPremise/systemCertificate', 'system'],
    ['connector/onPremise/ppCaCertificate', 'ppCa'],
    ['connector/ui/uiCertificate', 'ui'],
  ] as const) {
    route('GET', `${configBase}/${path}`, (call) =>
      certificateAnswer(ctx.certificates()[which], call.c.req.header('accept') ?? '', path.split('/').pop()!),
    );
  }

  // — High availability —
  route('GET', `${configBase}/connector/haRole`, (call) => json(roleOf(call.where, call.now)), { onShadow: true, onMaster: true });
  route(
    'POST',
    `${configBase}/connector/haRole`,
    async (call) => {
      const role = parseBody(
        z.enum(['master', 'shadow'], { error: 'the body is the JSON string "master" or "shadow"' }),
        await bodyOf(call),
        'role',
      );
      const instance = instanceOf(call.where);
      if (call.where.installation === 'shadow') {
        if (role !== 'shadow')
          throw conflict(
            'This installation is the shadow of its location; a switch (ha/master/state SWITCH on the master) makes it master',
          );
        instance.ha.shadow ??= { ...defaultShadow(), connected: false };
      } else if (role !== 'master') {
        throw conflict(
          `This installation is the master of location '${call.where.locationId}'; its shadow is at ${call.where.base}/shadow`,
        );
      }
      return noContent();
    },
    { onShadow: true, onMaster: true },
  );
  const haPath = `${configBase}/connector/ha`;
  route('GET', `${haPath}/master/config`, (call) => {
    const ha = instanceOf(call.where).ha;
    return json({ haEnabled: ha.haEnabled, haPort: String(ha.haPort), allowedShadowHost: ha.allowedShadowHost });
  });
  route('PUT', `${haPath}/master/config`, async (call) => {
    const body = parseBody(masterConfigBody, await bodyOf(call), 'high availability configuration');
    const ha = instanceOf(call.where).ha;
    if (body.haEnabled !== undefined) ha.haEnabled = body.haEnabled;
    if (body.haPort !== undefined) ha.haPort = body.haPort;
    if (body.allowedShadowHost !== undefined) ha.allowedShadowHost = body.allowedShadowHost;
    if (ha.shadow) ha.shadow.connected = ha.haEnabled && (!ha.allowedShadowHost || ha.allowedShadowHost === ha.shadow.ownHost);
    return noContent();
  });
  route('GET', `${haPath}/master/state`, (call) => {
    const instance = instanceOf(call.where);
    const shadow = instance.ha.shadow;
    const state = !shadow
      ? 'ALONE'
      : switchingUntil(instance, call.now) !== undefined
        ? 'BINDING'
        : shadow.connected && instance.ha.haEnabled
          ? 'CONNECTED'
          : 'BROKEN';
    return json({ state, shadowHost: shadow?.ownHost ?? '' });
  });
  route('POST', `${haPath}/master/state`, async (call) => {
    const { op } = parseBody(
      z.object({ op: z.enum(['SWITCH', 'FORCE_SWITCH'], { error: 'op must be SWITCH or FORCE_SWITCH' }) }),
      await bodyOf(call),
      'operation',
    );
    const instance = instanceOf(call.where);
    if (!instance.ha.shadow) throw conflict(`No shadow instance is installed for location '${call.where.locationId}'`);
    if (op === 'SWITCH' && !shadowReady(instance))
      throw conflict(
        'The shadow instance is not connected to the master (enable high availability and connect it first, or use FORCE_SWITCH)',
      );
    if (switchingUntil(instance, call.now) !== undefined) throw conflict('A switch is already under way');
    instance.ha.master = instance.ha.master === 'primary' ? 'shadow' : 'primary';
    instance.ha.switchedAt = call.now;
    return noContent();
  });
  route(
    'GET',
    `${haPath}/shadow/config`,
    (call) => {
      const { ha } = instanceOf(call.where);
      const shadow = ha.shadow!;
      return json({
        masterHost: shadow.masterHost,
        masterPort: String(shadow.masterPort),
        ownHost: shadow.ownHost,
        haPort: String(ha.haPort),
        checkIntervalInSeconds: shadow.checkIntervalInSeconds,
        takeoverDelayInSeconds: ha.takeoverDelaySeconds,
        connectTimeoutInMillis: shadow.connectTimeoutInMillis,
        requestTimeoutInMillis: shadow.requestTimeoutInMillis,
      });
    },
    { onShadow: true },
  );
  route(
    'PUT',
    `${haPath}/shadow/config`,
    async (call) => {
      const body = parseBody(shadowConfigBody, await bodyOf(call), 'shadow configuration');
      const { ha } = instanceOf(call.where);
      const shadow = ha.shadow!;
      if (body.masterHost !== undefined) shadow.masterHost = body.masterHost;
      if (body.masterPort !== undefined) shadow.masterPort = body.masterPort;
      if (body.ownHost !== undefined) shadow.ownHost = body.ownHost;
      if (body.haPort !== undefined) ha.haPort = body.haPort;
      if (body.checkIntervalInSeconds !== undefined) shadow.checkIntervalInSeconds = body.checkIntervalInSeconds;
      if (body.takeoverDelayInSeconds !== undefined) ha.takeoverDelaySeconds = body.takeoverDelayInSeconds;
      if (body.connectTimeoutInMillis !== undefined) shadow.connectTimeoutInMillis = body.connectTimeoutInMillis;
      if (body.requestTimeoutInMillis !== undefined) shadow.requestTimeoutInMillis = body.requestTimeoutInMillis;
      shadow.connected = ha.haEnabled && (!ha.allowedShadowHost || ha.allowedShadowHost === shadow.ownHost);
      return noContent();
    },
    { onShadow: true },
  );
  route(
    'GET',
    `${haPath}/shadow/state`,
    (call) => {
      const instance = instanceOf(call.where);
      return json({ state: shadowReady(instance) ? 'CONNECTED' : 'ALONE', masterHost: instance.ha.shadow!.masterHost });
    },
    { onShadow: true },
  );

  // — The admin console —
  for (const path of ['/', '/console'])
    route('GET', path, (call) => new Response(consolePage(call.where.base), { headers: { 'content-type': 'text/html; charset=utf-8' } }), {
      onShadow: true,
      onMaster: true,
    });

  async function dispatch(c: Context<AppEnv>): Promise<Response> {
    const url = new URL(c.req.url);
    const where = whereOf(url, c.req.method);
    if (!where) throw notFound(`No resource at ${url.pathname}`);
    const parts = where.rest.split('/').filter(Boolean);
    let params: Record<string, string> | undefined;
    let matched: Route | undefined;
    let pathMatched = false;
    for (const candidate of routes) {
      const got = matchParts(candidate.parts, parts);
      if (!got) continue;
      pathMatched = true;
      if (candidate.method !== c.req.method) continue;
      matched = candidate;
      params = got;
      break;
    }
    const user = authenticate(c, api().users, matched);
    if (!matched || !params) {
      if (pathMatched) throw new SccApiError(405, 'INVALID_REQUEST', `Method ${c.req.method} is not allowed on ${where.rest}`);
      throw notFound(`No resource at ${where.rest}`);
    }
    const now = ctx.clock.now();
    const instance = instanceOf(where);
    const isRoleCall = matched.parts.join('/') === 'api/v1/configuration/connector/haRole';
    if (where.installation === 'shadow' && !instance.ha.shadow && !(isRoleCall && c.req.method === 'POST'))
      throw notFound(
        `No shadow instance is installed for location '${where.locationId}': add cloudConnectorApi.instances[].ha.shadow to the scenario, or POST the JSON string "shadow" to ${where.base}${configBase}/connector/haRole`,
      );
    if (matched.parts[0] === 'api' && !isRoleCall) {
      const role = roleOf(where, now);
      if (role === 'shadow' && !matched.onShadow)
        throw invalid(
          `This is the shadow instance of location '${where.locationId}': the configuration is changed and read on the master, the other instance of the pair`,
        );
      if (role === 'master' && !matched.onMaster)
        throw forbidden(`This is the master instance of location '${where.locationId}': the shadow's settings are on the shadow`);
    }
    if (c.req.method !== 'GET' && !user.roles.includes('sccadmin') && !isPasswordCall(matched))
      throw forbidden(`User ${user.name} has the roles ${user.roles.join(', ') || '(none)'}: changes need sccadmin`);
    return matched.handler({ c, where, params, user, now });
  }

  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const url = new URL(c.req.url);
    ctx.journal.record({
      ...entryTiming(ctx.clock.now(), started),
      service: 'cloud-connector',
      method: c.req.method,
      path: url.pathname,
      status: c.res.status,
      ...(c.get('reason') ? { reason: c.get('reason') } : {}),
    });
  });
  app.use('*', async (c, next) => {
    const url = new URL(c.req.url);
    if (!ctx.guard.hostAllowed(url.host, 443)) {
      const message = `Host ${url.host} is not a name of this emulator (${ctx.guard.describeOwn()}): refused against DNS rebinding; allow it with --allowed-host`;
      c.set('reason', message);
      return c.json({ type: 'FORBIDDEN_REQUEST', message }, 403);
    }
    const origin = c.req.header('origin');
    if (origin !== undefined ? !ctx.guard.originAllowed(origin) : c.req.header('sec-fetch-site') === 'cross-site') {
      const message = `The Cloud Connector API refuses requests from the web origin ${origin ?? 'of a cross-site request'}: only the emulator's own pages may use it, so that another site cannot steer it (allow one with --allowed-origin)`;
      c.set('reason', message);
      return c.json({ type: 'FORBIDDEN_REQUEST', message }, 403);
    }
    return next();
  });
  app.use('*', bodyLimitMiddleware(ctx.limits));
  app.use(
    '*',
    ctx.changes.middleware((method) => method !== 'GET' && method !== 'HEAD'),
  );
  app.all('*', (c) => dispatch(c));
  app.onError((err, c) => {
    c.set('reason', err.message);
    if (err instanceof HttpError) return err.toResponse();
    return c.json({ type: 'RUNTIME_FAILURE', message: err.message }, 500);
  });
  return { fetch: (request) => Promise.resolve(app.fetch(request)) };
}

const isPasswordCall = (route: Route): boolean => route.parts.join('/') === 'api/v1/configuration/connector/authentication/basic';

/** Basic authentication against the installation's users; the console page asks the browser for it. */
function authenticate(c: Context<AppEnv>, users: SccUser[], route: Route | undefined): SccUser {
  const challenge = { 'www-authenticate': 'Basic realm="SAP Cloud Connector", charset="UTF-8"' };
  const header = c.req.header('authorization');
  if (!header || !/^basic\s/i.test(header))
    throw new SccApiError(401, 'FORBIDDEN_REQUEST', 'Authentication required: send HTTP Basic credentials', challenge);
  const credentials = basicCredentials(header);
  const user = 'problem' in credentials ? undefined : users.find((u) => u.name === credentials.id && u.password === credentials.secret);
  if (!user) throw new SccApiError(401, 'FORBIDDEN_REQUEST', 'Invalid user name or password', challenge);
  if (user.mustChangePassword && !(route && isPasswordCall(route)) && !(route && route.parts.length === 0) && route?.parts[0] !== 'console')
    throw forbidden(
      `The initial password of user ${user.name} must be changed before first use: PUT {"oldPassword":"…","newPassword":"…"} to /api/v1/configuration/connector/authentication/basic, or use the admin console at / (docs/cloud-connector.md)`,
    );
  return user;
}

function matchParts(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) {
      try {
        params[pattern[i].slice(1)] = decodeURIComponent(parts[i]);
      } catch {
        return undefined;
      }
    } else if (pattern[i] !== parts[i]) return undefined;
  }
  return params;
}

function splitVirtual(virtual: string): [string, string] {
  const colon = virtual.lastIndexOf(':');
  if (colon < 0) throw invalid(`"${virtual}" is not <virtualHost>:<virtualPort>`);
  return [virtual.slice(0, colon), virtual.slice(colon + 1)];
}

const isLocalName = (host: string): boolean => {
  const name = host.toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(name);
};

const defaultShadow = () => ({
  ownHost: 'shadow.localhost',
  masterHost: 'localhost',
  masterPort: 8443,
  checkIntervalInSeconds: 1,
  connectTimeoutInMillis: 10000,
  requestTimeoutInMillis: 10000,
});

/**
 * The authentication data downloaded from a subaccount: JSON (or base64 JSON) naming the subaccount and region.
 * Anything the emulator cannot read means its provider subaccount (the only one such a file could come from locally).
 */
function decodeAuthenticationData(data: string): { subaccount?: string; regionHost?: string } {
  for (const text of [data, safeAtob(data)]) {
    if (text === undefined) continue;
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const pick = (...keys: string[]) => keys.map((k) => parsed[k]).find((v): v is string => typeof v === 'string' && v.length > 0);
      return { subaccount: pick('subaccount', 'subaccountId'), regionHost: pick('regionHost', 'region') };
    } catch {
      // not JSON: try the next form
    }
  }
  return {};
}

function safeAtob(text: string): string | undefined {
  try {
    return atob(text);
  } catch {
    return undefined;
  }
}
