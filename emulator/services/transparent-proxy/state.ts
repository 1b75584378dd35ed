/**
 * The Transparent Proxy's state: its configuration and the Destination custom resources it serves, by
 * `<namespace>/<name>`. Built from the scenario (`transparentProxy`, `destinationCustomResources`); the control
 * API adds and removes CRs at run time, a reset brings back the scenario's. What a request needs of the rest of
 * the emulator is {@link TransparentProxyContext}, which the app's EmulatorCore satisfies as it is.
 */
import type { PublicUrls } from '../../core/urls.ts';
import type { ProxyContext } from '../connectivity-proxy/index.ts';
import type { OnPremView } from '../cloud-connector/state.ts';
import { crKey, type DestinationCustomResource, type TransparentProxyConfig } from './schema.ts';

export interface TransparentProxyState {
  transparentProxy: {
    config: TransparentProxyConfig;
    /** By `<namespace>/<name>`, in the order they were added. */
    resources: Map<string, DestinationCustomResource>;
  };
}

/** The state from the scenario's part (copies: changes at run time never touch the loaded scenario). */
export function buildTransparentProxyState(
  config: TransparentProxyConfig,
  crs: readonly DestinationCustomResource[],
): TransparentProxyState {
  const resources = new Map<string, DestinationCustomResource>();
  for (const cr of crs) resources.set(crKey(cr.metadata.namespace, cr.metadata.name), structuredClone(cr));
  return { transparentProxy: { config: structuredClone(config), resources } };
}

/** What the proxy reads: the subaccount (tenants, bindings), the Cloud Connectors (through the pipeline) and its own part. */
export type TransparentProxyView = OnPremView & TransparentProxyState;

/** What a request through the proxy needs of the emulator: the proxy pipeline's context, and the services port in-process. */
export interface TransparentProxyContext extends ProxyContext {
  readonly state: TransparentProxyView;
  /** Where the services port is (the token and lookup requests are addressed to it). */
  readonly urls: PublicUrls;
  /** The services port in-process (XSUAA's token endpoint, the Destination Service's find): journaled like any caller's. */
  fetch(request: Request): Promise<Response>;
}
