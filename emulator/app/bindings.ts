/**
 * What an app under test reads to find its services: the `VCAP_SERVICES` entries for the xsuaa, destination
 * and connectivity bindings, pointing at the emulator (reference: xsuaa-and-clients.md §6 and §7). x509
 * bindings carry a certificate and key issued by the emulator CA (CN = client id) and `certurl`, the TLS side
 * of the services port, instead of the client secret; connectivity bindings name the Connectivity Service
 * REST API in `connectivity_service`.
 */
import { defaultPorts } from '../core/ports.ts';
import { type Binding } from '../core/subaccount.ts';
import { type PublicUrls } from '../core/urls.ts';
import type { EmulatorState } from './state.ts';
import type { ClientCertificateIssuer } from '../core/client-certificate.ts';
import { apiAccessPlan, sccInfoPath } from '../services/connectivity/index.ts';
import { IdentityHosts } from '../services/identity/index.ts';

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
  identity: ['ias', 'identity'],
};

/**
 * An identity (IAS) binding: `url` (the provider tenant's IAS, on the identity port), `domains` (what xssec trusts as
 * issuers, subscribers one label below), `app_tid`, and a secret or (X509_GENERATED) a certificate and key.
 */
function identityCredentials(b: Binding, state: EmulatorState, urls: PublicUrls, issue?: ClientCertificateIssuer): Record<string, unknown> {
  const hosts = new IdentityHosts(urls);
  const secretOrCertificate: Record<string, unknown> =
    b.credentialType === 'x509' && issue
      ? { 'credential-type': 'X509_GENERATED', ...certificateAndKey(issue, b, state) }
      : { clientsecret: b.clientsecret };
  return {
    clientid: b.clientid,
    ...secretOrCertificate,
    url: hosts.origin,
    domains: hosts.domains,
    app_tid: state.provider.zid,
    authorization_endpoint: `${hosts.origin}/oauth2/authorize`,
    token_endpoint: `${hosts.origin}/oauth2/token`,
  };
}

function certificateAndKey(issue: ClientCertificateIssuer, b: Binding, state: EmulatorState): { certificate: string; key: string } {
  const { certificate, key } = issue({ commonName: b.clientid, organizationalUnit: state.provider.subaccountId });
  return { certificate, key };
}

/** Secret or certificate: what a binding shows to authenticate its client. */
function clientCredentials(b: Binding, state: EmulatorState, urls: PublicUrls, issue?: ClientCertificateIssuer): Record<string, unknown> {
  if (b.credentialType !== 'x509' || !issue) return { clientsecret: b.clientsecret, 'credential-type': 'binding-secret' };
  return { 'credential-type': 'x509', ...certificateAndKey(issue, b, state), certurl: `https://${urls.uaaDomain}` };
}

/** `issue`: the face's issuer of client certificates; without one, x509 bindings keep their secret. */
export function buildVcapServices(state: EmulatorState, urls: PublicUrls, issue?: ClientCertificateIssuer): VcapServices {
  const provider = state.provider;
  const vcap: VcapServices = {};
  for (const b of state.bindings) {
    if (b.service === 'identity') {
      (vcap.identity ??= []).push({
        name: b.name,
        label: 'identity',
        plan: b.plan,
        tags: tagsFor.identity,
        instance_name: b.name,
        instance_guid: b.instanceid,
        credentials: identityCredentials(b, state, urls, issue),
      });
      continue;
    }
    const common = {
      clientid: b.clientid,
      ...clientCredentials(b, state, urls, issue),
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
        onpremise_proxy_http_port: String(urls.httpProxyPort ?? defaultPorts.httpProxy),
        onpremise_proxy_port: String(urls.httpProxyPort ?? defaultPorts.httpProxy),
        onpremise_proxy_ldap_port: String(urls.httpProxyPort ?? defaultPorts.httpProxy),
        onpremise_proxy_rfc_port: String(urls.httpProxyPort ?? defaultPorts.httpProxy),
        onpremise_socks5_proxy_port: String(urls.socksProxyPort ?? defaultPorts.socks5),
        instanceid: b.instanceid,
        ...(b.tokenType ? { 'token-type': b.tokenType } : {}),
        ...(b.plan === apiAccessPlan ? { connectivity_service: { url: urls.serviceUrl, scc_info_path: sccInfoPath } } : {}),
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
