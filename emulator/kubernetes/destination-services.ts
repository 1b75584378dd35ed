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
 * The CRs are read from the scenario. Their schema is the Transparent Proxy's (issue #16, part 1); until it is
 * there this file reads the few fields it needs defensively, from the first of {@link scenarioKeys} that holds a
 * list, in SAP's CR form (`metadata.name`, `metadata.namespace`, `spec.service.port`, the annotation) or the flat
 * {@link DestinationServiceSpec} form.
 */
import { checkNamespace, checkServiceName, KubernetesOptionError, labelValue, type ServiceManifest, type ServicePort } from './objects.ts';

/** What a Service per CR needs to know of the CR. */
export interface DestinationServiceSpec {
  /** The CR's `metadata.name`: the Service's name, the `Host` the proxy routes by. */
  name: string;
  /** The CR's namespace; default: the emulator's (a CR in SAP's form without one is in `default`). */
  namespace?: string;
  /** `spec.service.port`: the port apps call; default 80. */
  port?: number;
  /** The emulator's port behind it; default the Transparent Proxy port of the ports table (a TCP CR may have its own). */
  targetPort?: number;
  /** The tenant-subdomains annotation: one more Service `<name>-<tenant>` each. */
  tenantSubdomains?: string[];
}

/** The scenario keys looked at, in this order (see the file comment). */
export const scenarioKeys = [['transparentProxy', 'destinations'], ['kubernetes', 'destinations'], ['destinationCustomResources']] as const;

export const tenantSubdomainsAnnotation = 'transparent-proxy.connectivity.api.sap/tenant-subdomains';

/** The HTTP default of a CR without `spec.service.port` (the SAP Cloud SDK for Java's `DEFAULT_PORT`). */
export const defaultCrPort = 80;

const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

function tenantsOf(annotations: Record<string, unknown> | undefined): string[] | undefined {
  const text = annotations?.[tenantSubdomainsAnnotation];
  if (typeof text !== 'string') return undefined;
  try {
    const list = JSON.parse(text) as unknown;
    if (Array.isArray(list) && list.every((t) => typeof t === 'string')) return list as string[];
  } catch {
    // named below
  }
  throw new KubernetesOptionError(`the annotation ${tenantSubdomainsAnnotation} must be a JSON list of subdomains, got ${text}`);
}

/** One entry of the scenario's list as a spec: SAP's CR form or the flat form. */
function specOf(entry: unknown, where: string): DestinationServiceSpec {
  const value = record(entry);
  const metadata = record(value?.metadata);
  const name = metadata?.name ?? value?.name;
  if (typeof name !== 'string') throw new KubernetesOptionError(`${where}: a Destination custom resource needs metadata.name`);
  // A CR without a namespace is in `default`, as kubectl and the emulator's Transparent Proxy take it.
  const namespace = metadata ? (metadata.namespace ?? 'default') : value?.namespace;
  const port = record(record(value?.spec)?.service)?.port ?? value?.port;
  const targetPort = value?.targetPort;
  return {
    name,
    ...(typeof namespace === 'string' ? { namespace } : {}),
    ...(typeof port === 'number' ? { port } : {}),
    ...(typeof targetPort === 'number' ? { targetPort } : {}),
    ...(tenantsOf(record(metadata?.annotations)) ? { tenantSubdomains: tenantsOf(record(metadata?.annotations)) } : {}),
    ...(Array.isArray(value?.tenantSubdomains) ? { tenantSubdomains: value.tenantSubdomains as string[] } : {}),
  };
}

/** The Destination CRs of a (validated) scenario, or none. */
export function destinationSpecsOf(scenario: unknown): DestinationServiceSpec[] {
  for (const path of scenarioKeys) {
    let value: unknown = scenario;
    for (const key of path) value = record(value)?.[key];
    if (Array.isArray(value)) return value.map((entry, i) => specOf(entry, `${path.join('.')}[${i}]`));
  }
  return [];
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
