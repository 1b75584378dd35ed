/**
 * The fake on-prem backend: stub routes, the echo, the OData sample, the SMTP sink's mails and the LDAP
 * directory. Its behaviour is
 * here (gateway.ts); its transports are faces: Node servers in emulator/server/backend, MSW handlers in
 * emulator/msw. It serves no route of the services port, so it is not in the plugin list.
 */
export { clearStubs, echoQuery, meetBackendFault, putStub, removeStub, stubResponse, type BackendContext } from './gateway.ts';
export { backendSchema, stubSchema, type StubConfig, type StubInput } from './schema.ts';
export { buildBackendState, matchStub, recordMail, type BackendState, type BackendStub, type ReceivedMail } from './state.ts';
export { ldapBind, ldapResult, ldapSearch, type LdapDirectory, type LdapEntry, type LdapScope } from './ldap-directory.ts';
