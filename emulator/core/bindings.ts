/**
 * What an app under test reads to find its services: the `VCAP_SERVICES` entries for the xsuaa, destination
 * and connectivity bindings, pointing at the emulator (reference: xsuaa-and-clients.md §6 and §7).
 */
import type { EmulatorState } from './state.ts';
import type { PublicUrls } from '../xsuaa/tokens.ts';

export interface ServiceBinding {
  name: string;
  label: string;
  plan: string;
  tags: string[];
  instance_name: string;
  instance_guid: string;
  credentials: Record<string, unknown>;
}

export type VcapServices = Record<string, ServiceBinding[]>;

const tagsFor: Record<string, string[]> = {
  xsuaa: ['xsuaa'],
  destination: ['destination', 'conn', 'connsvc'],
  connectivity: ['connectivity', 'conn', 'connsvc'],
};

export function buildVcapServices(state: EmulatorState, urls: PublicUrls): VcapServices {
  const provider = state.provider;
  const vcap: VcapServices = {};
  for (const b of state.bindings) {
    const common = {
      clientid: b.clientid,
      clientsecret: b.clientsecret,
      'credential-type': 'binding-secret',
      url: urls.serviceUrl,
      uaadomain: urls.uaaDomain,
      xsappname: b.xsappname,
      identityzone: provider.subdomain,
      identityzoneid: provider.zid,
      tenantid: provider.zid,
      subaccountid: provider.subaccountId,
      zoneid: provider.zid,
      tenantmode: 'dedicated',
    };
    let credentials: Record<string, unknown>;
    if (b.service === 'xsuaa') {
      credentials = { ...common, apiurl: urls.serviceUrl, sburl: urls.serviceUrl, verificationkey: undefined };
      delete credentials.verificationkey;
    } else if (b.service === 'destination') {
      credentials = { ...common, uri: urls.serviceUrl, instanceid: b.instanceid };
    } else {
      credentials = {
        ...common,
        token_service_url: urls.serviceUrl,
        token_service_domain: urls.uaaDomain,
        onpremise_proxy_host: urls.proxyHost ?? 'localhost',
        onpremise_proxy_http_port: String(urls.httpProxyPort ?? 20003),
        onpremise_proxy_port: String(urls.httpProxyPort ?? 20003),
        onpremise_proxy_ldap_port: String(urls.httpProxyPort ?? 20003),
        onpremise_proxy_rfc_port: String(urls.httpProxyPort ?? 20003),
        onpremise_socks5_proxy_port: String(urls.socksProxyPort ?? 20004),
        instanceid: b.instanceid,
      };
    }
    (vcap[b.service] ??= []).push({
      name: b.name,
      label: b.service,
      plan: b.plan,
      tags: tagsFor[b.service],
      instance_name: b.name,
      instance_guid: b.instanceid,
      credentials,
    });
  }
  return vcap;
}
