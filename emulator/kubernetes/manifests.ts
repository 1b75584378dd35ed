/**
 * `btp-emulator k8s`: the manifests of a shared team emulator in a Kubernetes cluster (docs/kubernetes.md), built
 * as plain objects from a scenario; the CLI writes them as YAML. No cluster is asked anything.
 *
 * - a ConfigMap with the scenario, mounted as a file and passed with `--scenario`;
 * - a Secret with the control token (random unless given), handed over as BTP_EMULATOR_CONTROL_TOKEN;
 * - a Deployment: the image's `node` user (uid 1000), read-only root file system, the TLS material and the state
 *   in an emptyDir, probes on `/_emulator/health`, every port of the ports table;
 * - a Service with every port of the ports table (`<name>.<namespace>.svc.cluster.local`, the advertised host);
 * - a Service per Destination custom resource (destination-services.ts);
 * - a Secret per service binding in the `SERVICE_BINDING_ROOT` layout (binding-secrets.ts).
 */
import { defaultPorts } from '../core/ports.ts';
import type { PublicUrls } from '../core/urls.ts';
import { parseScenarioText, scenarioFormatOf } from '../app/scenario.ts';
import type { BindingLayout } from '../../sdk-adapters/service-binding-root.ts';
import { bindingSecrets } from './binding-secrets.ts';
import { destinationServices, destinationSpecsOf, type DestinationServiceSpec } from './destination-services.ts';
import {
  checkNamespace,
  defaultImage,
  checkServiceName,
  KubernetesOptionError,
  type ConfigMapManifest,
  type DeploymentManifest,
  type HttpProbe,
  type Manifest,
  type ObjectMeta,
  type SecretManifest,
  type ServiceManifest,
  type ServicePort,
} from './objects.ts';

export const defaultName = 'btp-emulator';

/** The image's user (`USER node` in docker/Dockerfile: node's images give it uid and gid 1000). */
export const imageUser = { uid: 1000, gid: 1000 };

/** Where the pod keeps what the emulator writes (an emptyDir) and reads its scenario from (the ConfigMap). */
export const podPaths = {
  data: '/var/lib/btp-emulator',
  tlsDir: '/var/lib/btp-emulator/tls',
  stateDir: '/var/lib/btp-emulator/state',
  scenarioDir: '/etc/btp-emulator',
} as const;

/** The Deployment's command: the image's CLI (its entry point would add a second --host and --tls-dir). */
export const containerCommand = ['node', 'dist/emulator/cli/bin.js'];

export const controlTokenKey = 'token';
export const controlTokenEnv = 'BTP_EMULATOR_CONTROL_TOKEN';
export const healthPath = '/_emulator/health';

/** The Kubernetes port name of each ports-table entry (an IANA service name: at most 15 characters). */
const knownPortNames: Record<string, string> = {
  services: 'services',
  httpProxy: 'http-proxy',
  socks5: 'socks5',
  backendHttp: 'backend-http',
  backendTcp: 'backend-tcp',
  smtp: 'smtp',
  ldap: 'ldap',
  transparentProxy: 'transp-proxy',
  cloudConnectorApi: 'scc-api',
};

/** Known names, else the key in kebab case, cut to 15 characters. */
export function portName(key: string): string {
  return (
    knownPortNames[key] ??
    key
      .replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 15)
      .replace(/-+$/, '')
  );
}

/** The limit the API server puts on a ConfigMap's data. */
const configMapLimitBytes = 1024 * 1024;

export interface ClusterOptions {
  /** The scenario file's text; validated as the emulator validates it. */
  scenarioText: string;
  /** Its file name: `.json` makes it JSON (the ConfigMap key follows), anything else is read as the emulator reads it. */
  scenarioSource?: string;
  namespace: string;
  /** The emulator's Service and the prefix of every other name. Default `btp-emulator`. */
  name?: string;
  image?: string;
  /** Default: 32 random bytes, base64url. */
  controlToken?: string;
  /** The namespace of the binding Secrets: the app's, which may be another than the emulator's (default: the same). */
  bindingNamespace?: string;
  /** The binding Secrets' layout (default servicebinding.io). */
  layout?: BindingLayout;
  /** The ports table; default `emulator/core/ports.ts`. */
  ports?: Readonly<Record<string, number>>;
  /** The Destination custom resources; default: the scenario's `destinationCustomResources` (destination-services.ts). */
  destinations?: DestinationServiceSpec[];
}

export interface ClusterManifests {
  configMap: ConfigMapManifest;
  controlSecret: SecretManifest;
  deployment: DeploymentManifest;
  service: ServiceManifest;
  destinationServices: ServiceManifest[];
  bindingSecrets: SecretManifest[];
  /** All of them, in the order `kubectl apply` is best given them (what the pod mounts first). */
  manifests: Manifest[];
  /** The emulator's host name inside the cluster, as the bindings carry it. */
  host: string;
  /** The control token the Secret holds. */
  controlToken: string;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function probe(overrides: Partial<HttpProbe>): HttpProbe {
  return {
    httpGet: { path: healthPath, port: portName('services'), scheme: 'HTTP' },
    periodSeconds: 10,
    timeoutSeconds: 2,
    failureThreshold: 3,
    ...overrides,
  };
}

export async function generateManifests(options: ClusterOptions): Promise<ClusterManifests> {
  const namespace = checkNamespace(options.namespace, '--namespace');
  const name = checkServiceName(options.name ?? defaultName, '--name');
  if (name.length > 40) throw new KubernetesOptionError(`--name "${name}" is longer than 40 characters; the other names add to it`);
  const image = options.image ?? defaultImage;
  if (!image.trim() || /\s/.test(image)) throw new KubernetesOptionError(`--image "${image}" is not an image reference`);
  const ports: Readonly<Record<string, number>> = options.ports ?? defaultPorts;
  const source = options.scenarioSource ?? 'scenario';
  const scenario = parseScenarioText(options.scenarioText, source);
  const scenarioKey = scenarioFormatOf(options.scenarioText, source) === 'json' ? 'scenario.json' : 'scenario.yaml';
  if (new TextEncoder().encode(options.scenarioText).length > configMapLimitBytes - 1024)
    throw new KubernetesOptionError(`the scenario ${source} is too large for a ConfigMap (1 MiB)`);
  const controlToken = options.controlToken ?? randomToken();
  if (!controlToken.trim()) throw new KubernetesOptionError('--control-token must not be empty');

  const host = `${name}.${namespace}.svc.cluster.local`;
  const labels = {
    'app.kubernetes.io/name': 'btp-connectivity-emulator',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/managed-by': 'btp-emulator-k8s',
  };
  const selector = { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'], 'app.kubernetes.io/instance': name };
  const meta = (objectName: string): ObjectMeta => ({ name: objectName, namespace, labels: { ...labels } });

  const tablePorts: ServicePort[] = Object.entries(ports).map(([key, port]) => ({
    name: portName(key),
    port,
    targetPort: portName(key),
    protocol: 'TCP',
  }));
  const crs = destinationServices({
    specs: options.destinations ?? destinationSpecsOf(scenario),
    namespace,
    serviceName: name,
    selector,
    labels,
    transparentProxyPort: ports.transparentProxy,
    emulatorPorts: tablePorts,
  });

  const configMap: ConfigMapManifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(`${name}-scenario`),
    data: { [scenarioKey]: options.scenarioText },
  };
  const controlSecret: SecretManifest = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(`${name}-control`),
    type: 'Opaque',
    stringData: { [controlTokenKey]: controlToken },
  };

  const containerPorts = [
    ...Object.entries(ports).map(([key, port]) => ({ name: portName(key), containerPort: port, protocol: 'TCP' as const })),
    ...crs.targetPorts
      .filter((port) => !Object.values(ports).includes(port))
      .map((port) => ({ name: `tp-${port}`, containerPort: port, protocol: 'TCP' as const })),
  ];
  const deployment: DeploymentManifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name),
    spec: {
      // One pod: the state, the journal and the signing key live in it; a second replica would be a second emulator.
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...labels },
          // A new scenario or control token rolls the pod (a running one keeps its state dir, which wins over the scenario).
          annotations: { 'btp-emulator/config-sha256': await sha256Hex(`${options.scenarioText}\0${controlToken}`) },
        },
        spec: {
          automountServiceAccountToken: false,
          // No <SERVICE>_PORT variables: the emulator reads BTP_EMULATOR_* from its environment.
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: imageUser.uid,
            runAsGroup: imageUser.gid,
            fsGroup: imageUser.gid,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'emulator',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: containerCommand,
              args: [
                'start',
                '--scenario',
                `${podPaths.scenarioDir}/${scenarioKey}`,
                '--host',
                '0.0.0.0',
                '--advertised-host',
                host,
                // The other names a pod may use for the Service (the Host rule, docs/security.md).
                '--allowed-host',
                name,
                '--allowed-host',
                `${name}.${namespace}`,
                '--allowed-host',
                `${name}.${namespace}.svc`,
                '--tls-dir',
                podPaths.tlsDir,
                '--state-dir',
                podPaths.stateDir,
              ],
              env: [{ name: controlTokenEnv, valueFrom: { secretKeyRef: { name: controlSecret.metadata.name, key: controlTokenKey } } }],
              ports: containerPorts,
              // The first start makes a CA and two RSA keys: up to a minute on a slow node.
              startupProbe: probe({ periodSeconds: 1, failureThreshold: 60 }),
              readinessProbe: probe({ periodSeconds: 5 }),
              livenessProbe: probe({ periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 }),
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: imageUser.uid,
                runAsGroup: imageUser.gid,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'scenario', mountPath: podPaths.scenarioDir, readOnly: true },
                { name: 'data', mountPath: podPaths.data },
              ],
            },
          ],
          volumes: [
            { name: 'scenario', configMap: { name: configMap.metadata.name } },
            { name: 'data', emptyDir: { sizeLimit: '256Mi' } },
          ],
        },
      },
    },
  };
  const service: ServiceManifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name),
    spec: { type: 'ClusterIP', selector, ports: [...tablePorts, ...crs.extraEmulatorPorts] },
  };
  const urls: PublicUrls = {
    uaaDomain: `${host}:${ports.services}`,
    serviceUrl: `http://${host}:${ports.services}`,
    proxyHost: host,
    httpProxyPort: ports.httpProxy,
    socksProxyPort: ports.socks5,
    ...(ports.identity ? { identityOrigin: `https://${host}:${ports.identity}` } : {}),
  };
  const bindingNamespace = checkNamespace(options.bindingNamespace ?? namespace, '--binding-namespace');
  const secrets = bindingSecrets({
    scenario,
    urls,
    layout: options.layout ?? 'servicebinding.io',
    prefix: name,
    metadata: (secretName) => ({ ...meta(secretName), namespace: bindingNamespace }),
  });
  return {
    configMap,
    controlSecret,
    deployment,
    service,
    destinationServices: crs.services,
    bindingSecrets: secrets,
    manifests: [configMap, controlSecret, ...secrets, deployment, service, ...crs.services],
    host,
    controlToken,
  };
}
