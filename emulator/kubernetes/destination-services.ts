/**
 * One Kubernetes Service per Destination custom resource, pointing at the emulator's Transparent Proxy port, as
 * SAP's Transparent Proxy creates them: named like the CR, in the CR's namespace, on the CR's `spec.service.port`
 * (80 when it gives none), and with the tenant-subdomains annotation one more Service `<cr>-<tenant>` per tenant.
 * An app then calls `http://<cr>.<namespace>/path` and the proxy routes by that `Host`.
 *
 * A Service selects pods only in its own namespace. So a CR in the emulator's namespace gets a Service that
 * selects the emulator pod; a CR in another namespace gets an `ExternalName` Service that names the emulator's
 * Service, and the emulator's Service gets the CR's port as one more port to the Transparent Proxy.
 *
 * The CRs are the scenario's `destinationCustomResources` (validated by the scenario schema, namespaces filled in:
 * `destinationCustomResourcesOf`), and their Services are the Transparent Proxy's own list (`crServices`), the names
 * its routing answers — so the cluster's Services and the proxy's routing cannot drift apart.
 */
import { destinationCustomResourcesOf, type Scenario } from '../app/scenario-schema.ts';
import { crServices } from '../services/transparent-proxy/index.ts';
import { checkNamespace, checkServiceName, KubernetesOptionError, labelValue, type ServiceManifest, type ServicePort } from './objects.ts';

/** What a Service per CR needs to know of the CR. */
export interface DestinationServiceSpec {
  /** The CR's `metadata.name`: the Service's name, the `Host` the proxy routes by. */
  name: string;
  /** The CR's namespace; default: the emulator's. */
  namespace?: string;
  /** `spec.service.port`: the port apps call; default 80. */
  port?: number;
  /** The emulator's port behind it; default the Transparent Proxy port of the ports table (a TCP CR may have its own). */
  targetPort?: number;
  /** The tenants of the tenant-subdomains annotation: one more Service `<name>-<tenant>` each. */
  tenantSubdomains?: string[];
}

/** The HTTP default of a CR without `spec.service.port` (the SAP Cloud SDK for Java's `DEFAULT_PORT`). */
export const defaultCrPort = 80;

/** The Destination CRs of a validated scenario as specs: the CR's own Service and its per-tenant ones (`crServices`). */
export function destinationSpecsOf(scenario: Scenario): DestinationServiceSpec[] {
  return destinationCustomResourcesOf(scenario).map((cr) => {
    const [own, ...perTenant] = crServices(cr);
    const tenants = perTenant.map((service) => service.tenant).filter((tenant) => tenant !== undefined);
    return { name: own.name, namespace: own.namespace, port: own.port, ...(tenants.length ? { tenantSubdomains: tenants } : {}) };
  });
}

export interface DestinationServicesInput {
  specs: DestinationServiceSpec[];
  /** The emulator's namespace and Service name. */
  namespace: string;
  serviceName: string;
  selector: Record<string, string>;
  labels: Record<string, string>;
  /** The Transparent Proxy's port (the ports table's `transparentProxy`), undefined when this emulator has none. */
  transparentProxyPort: number | undefined;
  /** The ports of the emulator's own Service: a CR in another namespace must not take one of them. */
  emulatorPorts: ServicePort[];
}

export interface DestinationServices {
  services: ServiceManifest[];
  /** Ports the emulator's Service gains for CRs in other namespaces (their ExternalName Services land there). */
  extraEmulatorPorts: ServicePort[];
  /** Every emulator port the CRs target (the Deployment declares each). */
  targetPorts: number[];
}

export function destinationServices(input: DestinationServicesInput): DestinationServices {
  const { specs, namespace, serviceName } = input;
  if (specs.length && input.transparentProxyPort === undefined)
    throw new KubernetesOptionError(
      `the scenario has ${specs.length} Destination custom resource(s) (${specs.map((s) => s.name).join(', ')}), but this emulator has no Transparent Proxy port (transparentProxy in emulator/core/ports.ts)`,
    );
  const services: ServiceManifest[] = [];
  const extraEmulatorPorts: ServicePort[] = [];
  const targetPorts = new Set<number>();
  const seen = new Set<string>();
  for (const spec of specs) {
    const crNamespace = checkNamespace(spec.namespace ?? namespace, `the namespace of Destination CR "${spec.name}"`);
    const port = spec.port ?? defaultCrPort;
    const targetPort = spec.targetPort ?? (input.transparentProxyPort as number);
    for (const [what, value] of [
      ['spec.service.port', port],
      ['its emulator port', targetPort],
    ] as const) {
      if (!Number.isInteger(value) || value < 1 || value > 65535)
        throw new KubernetesOptionError(`Destination CR "${spec.name}": ${what} must be a port from 1 to 65535, got ${value}`);
    }
    targetPorts.add(targetPort);
    const names = [spec.name, ...(spec.tenantSubdomains ?? []).map((tenant) => `${spec.name}-${tenant}`)];
    const sameNamespace = crNamespace === namespace;
    const servicePort: ServicePort = { name: `tp-${port}`, port, targetPort: sameNamespace ? targetPort : port, protocol: 'TCP' };
    if (!sameNamespace) {
      const taken = [...input.emulatorPorts, ...extraEmulatorPorts].find((p) => p.port === port);
      if (taken && taken.targetPort !== targetPort)
        throw new KubernetesOptionError(
          `Destination CR "${spec.name}" in namespace ${crNamespace}: its port ${port} reaches the emulator's Service ${serviceName}.${namespace} through an ExternalName, where ${port} is already "${taken.name}"; give the CR another spec.service.port or put it into namespace ${namespace}`,
        );
      if (!taken) extraEmulatorPorts.push({ name: `tp-${port}`, port, targetPort, protocol: 'TCP' });
    }
    for (const name of names) {
      checkServiceName(name, `the Service of Destination CR "${spec.name}"`);
      const key = `${crNamespace}/${name}`;
      if (seen.has(key)) throw new KubernetesOptionError(`two Destination CRs make the Service ${name} in namespace ${crNamespace}`);
      seen.add(key);
      services.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name,
          namespace: crNamespace,
          labels: { ...input.labels, 'btp-emulator/destination-cr': labelValue(spec.name) },
        },
        spec: sameNamespace
          ? { type: 'ClusterIP', selector: input.selector, ports: [servicePort] }
          : { type: 'ExternalName', externalName: `${serviceName}.${namespace}.svc.cluster.local`, ports: [servicePort] },
      });
    }
  }
  return { services, extraEmulatorPorts, targetPorts: [...targetPorts] };
}
