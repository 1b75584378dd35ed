/**
 * The request description a proxy hop is given, whatever its transport: who asks (the credential), through
 * which Cloud Connector (location ID), for which virtual host, port and path, over which channel; and the
 * proxy's operational mode (cloud-foundry or the Kubernetes trusted mode), a part of the scenario.
 */
import type { Tenant } from '../../core/subaccount.ts';
import { z } from 'zod';
import type { AccessChannel } from '../cloud-connector/access.ts';

/** The face that carries the hop: the HTTP proxy (20003), SOCKS5 (20004), the MSW approuter, the Transparent Proxy. */
export type ProxyTransport = 'http-proxy' | 'socks5' | 'approuter' | 'transparent-proxy';

/**
 * A connectivity token (the HTTP proxy's `Proxy-Authorization`, SOCKS5's 0x80 method), or an in-process hop
 * that stands for the connectivity binding of a tenant it already knows (the MSW approuter).
 */
export type ProxyCredential =
  | {
      /** `Proxy-Authorization` (HTTP) or the 0x80 token (SOCKS5); checked in cloud-foundry mode, not in trusted mode. */
      token: string | undefined;
      /** Trusted shared mode: the token whose zone names the tenant (HTTP: `SAP-CP-Connectivity-Service-Token`; SOCKS5: the 0x80 token). */
      serviceToken?: string;
      /** The request carries a user in `SAP-Connectivity-Authentication` (then `token` must not carry one too). */
      userHeader?: boolean;
    }
  | { binding: Tenant };

export interface ProxyTarget {
  virtualHost: string;
  virtualPort: number;
  /** HTTP: the path without the query, as received (the access check normalises it). */
  path?: string;
  protocol: AccessChannel;
}

/** What the transport knows when the hop starts; the journal entry begins with it. */
export interface ProxyHopStart {
  transport: ProxyTransport;
  method: string;
  /** The request target as the client sent it (HTTP) or `host:port` (SOCKS5, once known). */
  target: string;
  /** `performance.now()` when the request (or connection) arrived. */
  started: number;
  correlationId?: string;
  /**
   * A TCP tunnel of a face that is not SOCKS5's own port (the Transparent Proxy's TCP and mail CRs, which the real
   * proxy takes through the connectivity proxy's SOCKS5 port): journaled and faulted as `socks5`, reply codes as status.
   */
  socks5?: boolean;
}

/** A whole request at once: the one-shot form of a hop (HTTP proxy, approuter). */
export interface ProxyRequest extends ProxyHopStart {
  credential: ProxyCredential;
  /** '' = the default connector. */
  locationId: string;
  to: ProxyTarget;
}

/**
 * The proxy's operational mode (scenario key `connectivityProxy`, or the `connectivityProxy` start option, which
 * replaces it). `cloud-foundry` (default): every request authenticates with the connectivity token, whose zone
 * selects the subaccount, as on Cloud Foundry and in the Kubernetes proxy's non-trusted modes. `trusted`: the
 * Kubernetes proxy with proxy authorization disabled (Kyma's default); `tenantMode` says whether it serves one
 * subaccount (`dedicated`: `subaccount`, default the provider) or the one `SAP-CP-Connectivity-Service-Token`
 * names (`shared`).
 */
export const proxyModes = ['cloud-foundry', 'trusted'] as const;
export type ProxyModeName = (typeof proxyModes)[number];
export const proxyTenantModes = ['dedicated', 'shared'] as const;

export const connectivityProxySchema = z
  .strictObject({
    mode: z.enum(proxyModes, { error: `mode must be one of ${proxyModes.join(', ')}` }).default('cloud-foundry'),
    /** Trusted mode only: `dedicated` (one subaccount) or `shared` (the tenant from SAP-CP-Connectivity-Service-Token). */
    tenantMode: z.enum(proxyTenantModes, { error: `tenantMode must be one of ${proxyTenantModes.join(', ')}` }).optional(),
    /** Trusted dedicated mode only: the subdomain or zid of the subaccount the proxy serves (SAP: config.subaccountId). Default: the provider. */
    subaccount: z.string().min(1).optional(),
  })
  .superRefine((value, ctx) => {
    if (value.mode === 'trusted') {
      if (value.subaccount !== undefined && value.tenantMode === 'shared')
        ctx.addIssue({
          code: 'custom',
          path: ['subaccount'],
          message: 'only with tenantMode: dedicated (in shared mode SAP-CP-Connectivity-Service-Token names the tenant)',
        });
      return;
    }
    for (const key of ['tenantMode', 'subaccount'] as const)
      if (value[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'only with mode: trusted (in cloud-foundry mode the connectivity token names the tenant)',
        });
  });

export type ConnectivityProxyInput = z.input<typeof connectivityProxySchema>;

/** The mode a hop runs in, defaults filled in. */
export type ProxyMode =
  { mode: 'cloud-foundry' } | { mode: 'trusted'; tenantMode: 'dedicated'; subaccount?: string } | { mode: 'trusted'; tenantMode: 'shared' };

/** The mode in force: the start option's when given (it replaces the scenario's part whole), else the scenario's. */
export function effectiveProxyMode(
  scenario: z.output<typeof connectivityProxySchema> | undefined,
  override?: z.output<typeof connectivityProxySchema>,
): ProxyMode {
  const chosen = override ?? scenario;
  if (chosen?.mode !== 'trusted') return { mode: 'cloud-foundry' };
  if (chosen.tenantMode === 'shared') return { mode: 'trusted', tenantMode: 'shared' };
  return { mode: 'trusted', tenantMode: 'dedicated', ...(chosen.subaccount ? { subaccount: chosen.subaccount } : {}) };
}
