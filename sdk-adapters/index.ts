/**
 * `btp-connectivity-emulator/sdk-adapters`: hand an app under test its bindings in the form it reads them —
 * VCAP_SERVICES, default-env.json, a Kubernetes binding directory, the approuter's `destinations`, CAP's
 * `cds.requires`, the CA for NODE_EXTRA_CA_CERTS, `*.localhost` for the identity service's tenants, user tokens — and run one emulator per test run;
 * clear the SAP Cloud SDK's caches between emulators.
 */
import '../emulator/require-node.ts';
export { resolveBindings, selectBindings, type BindingSource, type BindingValues, type EmulatorLike } from './binding-source.ts';
export { vcapServicesJson, writeVcapServicesFile } from './vcap-services.ts';
export { defaultEnvContent, writeDefaultEnvFile, type DefaultEnvOptions } from './default-env-file.ts';
export { writeServiceBindingRoot, type BindingLayout, type ServiceBindingRootOptions } from './service-binding-root.ts';
export { approuterDestinationsEnv, approuterDestinationsJson, type ApprouterDestination } from './approuter-destinations.ts';
export {
  capConfigEnv,
  capRemoteService,
  capRequires,
  type CapRemoteKind,
  type CapRemoteServiceConfig,
  type CapRemoteServiceOptions,
} from './cap-requires.ts';
export { extraCaCertsEnv } from './ca-certificate.ts';
export { resolveLocalhostSubdomains } from './localhost-subdomains.ts';
export { userToken, type TokenIssuer, type UserTokenOptions } from './user-token.ts';
export { controlUrlVariable, startTestRunEmulator, stopTestRunEmulator, testRunEmulator } from './test-run-emulator.ts';
export { clearSapCloudSdkCaches, type SapCloudSdkInternals } from './sap-cloud-sdk.ts';
export { emulatorGlobalSetup, type ProvidedEmulator, type ProvidingProject } from './vitest-setup.ts';
