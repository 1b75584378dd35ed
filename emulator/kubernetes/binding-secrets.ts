/**
 * The scenario's service bindings as Kubernetes Secrets in the `SERVICE_BINDING_ROOT` layout: one Secret per
 * binding, one key per file of that binding's directory (the files `sdk-adapters/service-binding-root.ts` writes for
 * `btp-emulator env --format k8s`), so an app Deployment mounts each at `$SERVICE_BINDING_ROOT/<path>` and
 * `@sap/xsenv` (hence the SAP Cloud SDK) reads them as it reads the SAP BTP service operator's secrets.
 *
 * The URLs name the emulator's Service (`http://<service>.<namespace>.svc.cluster.local:<port>`), built by the
 * emulator's own binding code (`emulator/app/bindings.ts`) from the same scenario, so they are what the running
 * emulator hands out. x509 bindings keep their client secret here: their certificate would come from the CA the
 * pod makes at its start, which does not exist yet.
 */
import { buildVcapServices } from '../app/bindings.ts';
import { buildState } from '../app/state.ts';
import type { Scenario } from '../app/scenario-schema.ts';
import type { PublicUrls } from '../core/urls.ts';
import { serviceBindingFiles, type BindingLayout } from '../../sdk-adapters/service-binding-root.ts';
import { KubernetesOptionError, labelValue, type ObjectMeta, type SecretManifest } from './objects.ts';

/** The annotation on each binding Secret naming its directory below `SERVICE_BINDING_ROOT` (the app's mountPath). */
export const bindingPathAnnotation = 'btp-emulator/service-binding-path';

/** A Secret name from a binding name: an RFC 1123 subdomain (lower case; other characters become '-'). */
function secretName(prefix: string, binding: string): string {
  const name = `${prefix}-binding-${binding.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}`.replace(/[-.]+$/, '');
  if (name.length > 253) throw new KubernetesOptionError(`the binding name "${binding}" is too long for a Secret name`);
  return name;
}

export function bindingSecrets(options: {
  scenario: Scenario;
  urls: PublicUrls;
  layout: BindingLayout;
  prefix: string;
  metadata: (name: string) => ObjectMeta;
}): SecretManifest[] {
  const vcapServices = buildVcapServices(buildState(options.scenario, Date.now()), options.urls);
  const seen = new Map<string, string>();
  return serviceBindingFiles({ vcapServices }, options.layout).map(({ binding, path, files }) => {
    const name = secretName(options.prefix, binding.name);
    const clash = seen.get(name);
    if (clash) throw new KubernetesOptionError(`the bindings "${clash}" and "${binding.name}" would both be the Secret ${name}`);
    seen.set(name, binding.name);
    const metadata = options.metadata(name);
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        ...metadata,
        labels: { ...metadata.labels, 'btp-emulator/binding': labelValue(binding.name), 'btp-emulator/service': labelValue(binding.label) },
        annotations: { [bindingPathAnnotation]: path.join('/') },
      },
      type: 'Opaque',
      stringData: files,
    };
  });
}
