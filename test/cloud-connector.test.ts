/**
 * The Cloud Connector model without sockets: scenario validation of connectors, and the access decision
 * (location, online state, mapping, protocol, resources with exact and prefix matching) with its reasons.
 */
import { describe, expect, it } from 'vitest';
import { decideAccess, type AccessDenied, type AccessRequest } from '../emulator/services/cloud-connector/access.ts';
import { buildState } from '../emulator/app/state.ts';
import { validateScenario } from '../emulator/app/scenario.ts';

const scenario = validateScenario({
  tenants: [
    {
      subdomain: 'provider',
      zid: 'zone-provider',
      cloudConnectors: [
        {
          systems: [
            {
              virtualHost: 'ERP.internal',
              virtualPort: 443,
              internalHost: '{{backendHost}}',
              internalPort: '{{backendHttpPort}}',
              resources: [
                { path: '/sap/bc', exactMatchOnly: false },
                { path: '/exact', exactMatchOnly: true },
                { path: '/suspended', enabled: false },
              ],
            },
            { virtualHost: 'open.internal', virtualPort: 80, internalHost: 'localhost', internalPort: 8080 },
            { virtualHost: 'closed.internal', virtualPort: 80, internalHost: 'localhost', internalPort: 8080, resources: [] },
            { virtualHost: 'db.internal', virtualPort: 30015, internalHost: 'localhost', internalPort: 30015, protocol: 'TCP' },
          ],
        },
        { locationId: 'loc1', online: false, systems: [] },
      ],
    },
    { subdomain: 'other', zid: 'zone-other' },
  ],
});
const state = buildState(scenario, Date.now());
const placeholders = { backendHost: '127.0.0.1', backendHttpPort: '20010' };
const decide = (request: Partial<AccessRequest>) =>
  decideAccess(
    state,
    { zid: 'zone-provider', virtualHost: 'erp.internal', virtualPort: 443, protocol: 'HTTP', path: '/sap/bc/x', ...request },
    placeholders,
  );
const denied = (request: Partial<AccessRequest>): AccessDenied => {
  const decision = decide(request);
  if (decision.ok) throw new Error('expected a denial');
  return decision;
};

describe('access decision', () => {
  it('grants a mapped host (case-insensitive) and resolves placeholders in the internal target', () => {
    const decision = decide({});
    expect(decision).toMatchObject({ ok: true, internalHost: '127.0.0.1', internalPort: 20010, protocol: 'HTTP' });
  });

  it('"path and all sub-paths" is a plain case-sensitive prefix; "path only" is exact', () => {
    expect(decide({ path: '/sap/bc' }).ok).toBe(true);
    expect(decide({ path: '/sap/bcd' }).ok).toBe(true);
    expect(decide({ path: '/SAP/bc' }).ok).toBe(false);
    expect(decide({ path: '/exact' }).ok).toBe(true);
    expect(decide({ path: '/exact/' }).ok).toBe(false);
    expect(denied({ path: '/suspended' }).check).toBe('resource');
    expect(denied({ path: '/x' })).toMatchObject({
      status: 403,
      body: 'Access denied to resource /x on system erp.internal:443',
      reason: 'path `/x` is outside the allowed resources (`/sap/bc` with sub-paths, `/exact` (path only)) of `erp.internal:443`',
    });
  });

  it('omitted resources expose everything, an empty list nothing', () => {
    expect(decide({ virtualHost: 'open.internal', virtualPort: 80, path: '/anything' }).ok).toBe(true);
    expect(denied({ virtualHost: 'closed.internal', virtualPort: 80, path: '/' }).reason).toContain('no enabled resources');
  });

  it('denies unmapped hosts with 403 / SOCKS 02 and SAP’s text', () => {
    expect(denied({ virtualHost: 'erp', virtualPort: 443 })).toMatchObject({
      status: 403,
      socksReply: 2,
      check: 'mapping',
      body: 'Access denied to system erp:443',
    });
    expect(denied({ virtualHost: 'erp', virtualPort: 443 }).reason).toBe(
      'virtual host `erp:443` is not mapped in the Cloud Connector for the default location (no location ID) of subaccount `provider`',
    );
  });

  it('serves HTTP mappings only over HTTP and TCP mappings only over SOCKS5', () => {
    expect(denied({ virtualHost: 'db.internal', virtualPort: 30015 }).check).toBe('protocol');
    expect(decide({ virtualHost: 'db.internal', virtualPort: 30015, protocol: 'TCP' }).ok).toBe(true);
    expect(denied({ protocol: 'TCP' }).socksReply).toBe(2);
  });

  it('answers 503 / SOCKS 03 for an unknown location, an offline connector and a tenant without connectors', () => {
    expect(denied({ locationId: 'loc2' })).toMatchObject({
      status: 503,
      socksReply: 3,
      check: 'location',
      reason: 'no Cloud Connector for location `loc2` in subaccount `provider`',
    });
    expect(denied({ locationId: 'loc1' })).toMatchObject({ status: 503, check: 'offline' });
    expect(denied({ zid: 'zone-other' }).reason).toBe('no Cloud Connector for the default location (no location ID) in subaccount `other`');
  });
});

describe('scenario validation', () => {
  const withConnectors = (cloudConnectors: unknown) => () => validateScenario({ tenants: [{ subdomain: 'p', cloudConnectors }] });

  it('names the offending field', () => {
    expect(
      withConnectors([{ systems: [{ virtualHost: 'a', virtualPort: 1, internalHost: 'b', internalPort: 2, protocol: 'FTP' }] }]),
    ).toThrow(/tenants\[0\]\.cloudConnectors\[0\]\.systems\[0\]\.protocol: protocol must be one of/);
    expect(withConnectors([{ locationId: 'x' }, { locationId: 'x' }])).toThrow(/two Cloud Connectors with location ID "x"/);
    expect(withConnectors([{ systems: [{ virtualHost: 'a', virtualPort: 1, internalHost: 'b', internalPort: 'nope' }] }])).toThrow(
      /internalPort/,
    );
    const dup = { virtualHost: 'a', virtualPort: 1, internalHost: 'b', internalPort: 2 };
    expect(withConnectors([{ systems: [dup, { ...dup, virtualHost: 'A' }] }])).toThrow(/virtual host a:1 is mapped twice/);
    expect(() => validateScenario({ tenants: [{ subdomain: 'p' }], backend: { stubs: [{ path: 'no-slash' }] } })).toThrow(
      /backend\.stubs\[0\]\.path/,
    );
  });
});
