/**
 * The few Kubernetes object shapes `btp-emulator k8s` writes, typed as far as it fills them (the full models are
 * the `kubernetes-models` package; test/kubernetes.test.ts checks these against them and validates every object).
 */

/** The image `docker/Dockerfile` builds (the Testcontainers module's default too). */
export const defaultImage = 'btp-connectivity-emulator:latest';

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ConfigMapManifest {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
}

export interface SecretManifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type: 'Opaque';
  /** The values as text (readable in the YAML; the API server keeps them base64 in `data`). */
  stringData: Record<string, string>;
}

export interface ServicePort {
  name: string;
  port: number;
  targetPort: number | string;
  protocol: 'TCP';
}

export interface ServiceManifest {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec:
    | { type: 'ClusterIP'; selector: Record<string, string>; ports: ServicePort[] }
    | { type: 'ExternalName'; externalName: string; ports: ServicePort[] };
}

export interface HttpProbe {
  httpGet: { path: string; port: string; scheme: 'HTTP' };
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  initialDelaySeconds?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}

export interface ContainerSpec {
  name: string;
  image: string;
  imagePullPolicy: 'IfNotPresent';
  command: string[];
  args: string[];
  env: EnvVar[];
  ports: { name: string; containerPort: number; protocol: 'TCP' }[];
  startupProbe: HttpProbe;
  readinessProbe: HttpProbe;
  livenessProbe: HttpProbe;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: {
    runAsNonRoot: true;
    runAsUser: number;
    runAsGroup: number;
    allowPrivilegeEscalation: false;
    readOnlyRootFilesystem: boolean;
    capabilities: { drop: string[] };
  };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface DeploymentManifest {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: {
    replicas: 1;
    strategy: { type: 'Recreate' };
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        automountServiceAccountToken: false;
        enableServiceLinks: false;
        securityContext: {
          runAsNonRoot: true;
          runAsUser: number;
          runAsGroup: number;
          fsGroup: number;
          seccompProfile: { type: 'RuntimeDefault' };
        };
        containers: ContainerSpec[];
        volumes: ({ name: string; configMap: { name: string } } | { name: string; emptyDir: { sizeLimit: string } })[];
      };
    };
  };
}

export type Manifest = ConfigMapManifest | SecretManifest | ServiceManifest | DeploymentManifest;

/** A name or option the API server would refuse; the message names it (the CLI exits 2 with it). */
export class KubernetesOptionError extends Error {
  override name = 'KubernetesOptionError';
}

/** RFC 1123 label (namespaces, and with a leading letter the RFC 1035 label a Service name must be). */
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A namespace name: an RFC 1123 label of at most 63 characters. */
export function checkNamespace(value: string, what: string): string {
  if (value.length > 63 || !dnsLabel.test(value))
    throw new KubernetesOptionError(
      `${what} "${value}" is not a Kubernetes namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
    );
  return value;
}

/** A Service name: an RFC 1035 label (a leading letter) of at most 63 characters. */
export function checkServiceName(value: string, what: string): string {
  if (value.length > 63 || !dnsLabel.test(value) || !/^[a-z]/.test(value))
    throw new KubernetesOptionError(
      `${what} "${value}" is not a Kubernetes Service name: lower-case letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters`,
    );
  return value;
}

/** A label value: at most 63 characters of letters, digits, '-', '_' and '.', beginning and ending alphanumeric. */
export function labelValue(value: string): string {
  const cleaned = value
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned || 'x';
}
