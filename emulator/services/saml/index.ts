/**
 * SAML 2.0 as a library service: not a plugin (it has no routes of its own, so it is not in emulator/app/plugins.ts),
 * used by XSUAA (the saml2-bearer grant verifies assertions against the trust certificates) and the Destination
 * Service (it builds and signs the assertions of `SAMLAssertion` and `OAuth2SAMLBearerAssertion` destinations and
 * serves the subaccount's SAML metadata). What other folders may use:
 *   assertion.ts    build, sign, encode and decode assertions
 *   trust.ts        the subaccount trust certificate of each tenant (active and passive), its IdP metadata
 *   state.ts        where the trust is kept (part of the emulator state)
 *   keystore.ts     a destination's own keystore as the key pair of its assertions
 *   xml.ts          exclusive canonicalisation and enveloped signatures (Web Crypto only)
 *   certificate.ts  self-signed X.509 certificates written by hand (PEM of the trust certificate)
 *   default-key.ts  the fixed default signing key (trust.ts uses it)
 */
export { buildSignedAssertion, decodeAssertion, encodeAssertion, SAML_NS, type AssertionProperties } from './assertion.ts';
export { deletePassive, entityIdOf, idpMetadata, renewTrust, rotateTrust, trustedSamlKeys, trustOf } from './trust.ts';
export { keystoreKeyPair } from './keystore.ts';
export { checkEnvelopedSignature, childNamed, elementChildren, parseXml, textOf } from './xml.ts';
export { toPem } from './certificate.ts';
export { buildSamlState, type SamlState, type SamlView, type TenantTrust, type TrustKeyPair } from './state.ts';
export { SamlAssertionError, XmlSignatureError } from './errors.ts';
