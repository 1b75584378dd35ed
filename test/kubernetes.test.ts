/**
 * `btp-emulator k8s` (issue #16, part 3): the manifests of a shared team emulator in a cluster. No cluster runs
 * here, so every generated object is validated against the Kubernetes schemas offline (kubernetes-models), plus
 * the API server's own name and port rules; the important fields are asserted; and the real CLI is started with
 * exactly the command, arguments and environment of the generated Deployment — the ConfigMap, the Secret and the
 * emptyDir mapped to temp directories laid out as the kubelet lays them — and called the way a pod would: the
 * kubelet's health probe, a token from XSUAA with the credentials of the mounted binding Secret (read by
 * @sap/xsenv from SERVICE_BINDING_ROOT), a destination lookup, the control API with the token of its Secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LookupFunction } from 'node:net';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Secret, Service, type IConfigMap, type ISecret, type IService } from 'kubernetes-models/v1';
import { decodeJwt } from 'jose';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPorts } from '../emulator/core/ports.ts';
import { freePort, portFlags } from '../emulator/testcontainers/index.ts';
import { crServices, defaultScenarioFile, destinationCustomResourcesOf, startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { destinationSpecsOf, type DestinationServiceSpec } from '../emulator/kubernetes/destination-services.ts';
import { generateManifests, healthPath, portName, type ClusterManifests } from '../emulator/kubernetes/manifests.ts';
import type { DeploymentManifest, Manifest, SecretManifest, ServiceManifest } from '../emulator/kubernetes/objects.ts';
import { writeServiceBindingRoot } from '../sdk-adapters/service-binding-root.ts';
import { buildVcapServices } from '../emulator/app/bindings.ts';
import { buildState } from '../emulator/app/state.ts';
import { parseScenarioText } from '../emulator/app/scenario.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliBin = join(root, 'emulator', 'cli', 'bin.js');
const namespace = 'team';
const scenarioText = readFileSync(defaultScenarioFile, 'utf8');
const kymaScenarioFile = join(root, 'fixtures', 'kyma.scenario.yaml');

interface Xsenv {
  filterServices(filter: Record<string, string>): { label: string; name: string; credentials: Record<string, string> }[];
}
const xsenv = createRequire(import.meta.url)('@sap/xsenv') as Xsenv;

// The generator's types are the Kubernetes models' as far as they go (a compile-time check: tsc runs over the tests).
const typeChecks = (m: ClusterManifests): [IDeployment, IService, ISecret, IConfigMap] => [
  m.deployment,
  m.service,
  m.controlSecret,
  m.configMap,
];

const models = { Deployment, Service, Secret, ConfigMap } as const;

/** The API server's rules the JSON schemas leave out (names, port names, keys); each failure says which. */
function apiServerProblems(manifest: Manifest): string[] {
  const problems: string[] = [];
  const where = `${manifest.kind} ${manifest.metadata.namespace}/${manifest.metadata.name}`;
  const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  const ianaServiceName = (n: string): boolean =>
    n.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(n) && /[a-z]/.test(n) && !n.includes('--');
  const keyOk = (k: string): boolean => k.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(k);
  const labelOk = (v: string): boolean => v.length <= 63 && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(v);
  const check = (ok: boolean, what: string): void => void (ok || problems.push(`${where}: ${what}`));
  check(dns1123Label.test(manifest.metadata.namespace) && manifest.metadata.namespace.length <= 63, 'namespace');
  if (manifest.kind === 'Service' || manifest.kind === 'Deployment')
    check(
      dns1123Label.test(manifest.metadata.name) && /^[a-z]/.test(manifest.metadata.name) && manifest.metadata.name.length <= 63,
      'name (RFC 1035 label)',
    );
  else check(dns1123Subdomain.test(manifest.metadata.name) && manifest.metadata.name.length <= 253, 'name (RFC 1123 subdomain)');
  for (const [key, value] of Object.entries(manifest.metadata.labels ?? {}))
    check(labelOk(value) && keyOk(key.split('/').pop()!), `label ${key}`);
  if (manifest.kind === 'Secret') for (const key of Object.keys(manifest.stringData)) check(keyOk(key), `Secret key ${key}`);
  if (manifest.kind === 'ConfigMap') for (const key of Object.keys(manifest.data)) check(keyOk(key), `ConfigMap key ${key}`);
  const portsOk = (ports: { name: string; port: number }[], what: string): void => {
    for (const p of ports)
      check(ianaServiceName(p.name) && Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535, `${what} ${p.name}`);
    check(new Set(ports.map((p) => p.name)).size === ports.length, `${what} names are unique`);
    check(new Set(ports.map((p) => p.port)).size === ports.length, `${what} numbers are unique`);
  };
  if (manifest.kind === 'Service') portsOk(manifest.spec.ports, 'Service port');
  if (manifest.kind === 'Deployment') {
    const pod = manifest.spec.template.spec;
    for (const c of pod.containers) {
      portsOk(
        c.ports.map((p) => ({ name: p.name, port: p.containerPort })),
        'container port',
      );
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe])
        check(
          c.ports.some((p) => p.name === probe.httpGet.port),
          `probe port ${probe.httpGet.port} is a container port`,
        );
      for (const mount of c.volumeMounts)
        check(
          pod.volumes.some((v) => v.name === mount.name),
          `volume ${mount.name}`,
        );
    }
    for (const [key, value] of Object.entries(manifest.spec.selector.matchLabels))
      check(manifest.spec.template.metadata.labels[key] === value, `the selector's ${key} is a pod label`);
  }
  return problems;
}

function validateAll(manifests: Manifest[]): void {
  for (const manifest of manifests) {
    const Model = models[manifest.kind];
    expect(() => new Model(manifest as never).validate(), `${manifest.kind} ${manifest.metadata.name}`).not.toThrow();
    expect(apiServerProblems(manifest)).toEqual([]);
  }
}

const container = (m: ClusterManifests): DeploymentManifest['spec']['template']['spec']['containers'][number] =>
  m.deployment.spec.template.spec.containers[0];

describe('btp-emulator k8s: the manifests', () => {
  let m: ClusterManifests;
  beforeAll(async () => {
    m = await generateManifests({ scenarioText, scenarioSource: defaultScenarioFile, namespace });
    typeChecks(m);
  });

  it('every manifest passes the Kubernetes schema and the API server rules', () => {
    expect(m.manifests.map((x) => x.kind)).toEqual([
      'ConfigMap',
      'Secret',
      'Secret',
      'Secret',
      'Secret',
      'Secret',
      'Deployment',
      'Service',
    ]);
    validateAll(m.manifests);
  });

  it('the validation refuses what a cluster would refuse', () => {
    const broken = structuredClone(m.deployment) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'one';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/);
    const badPort = structuredClone(m.service);
    badPort.spec.ports[0].name = 'services-port-name-too-long';
    expect(apiServerProblems(badPort)).not.toEqual([]);
  });

  it('the Deployment runs as the image user, read-only, with probes on the health route of the services port', () => {
    const dockerfile = readFileSync(join(root, 'docker', 'Dockerfile'), 'utf8');
    // The image's user: `USER node`, the user the Dockerfile hands its writable folders to.
    expect(dockerfile).toMatch(/^USER node$/m);
    const [, uid, gid] = /chownSync\(d, (\d+), (\d+)\)/.exec(dockerfile)!;
    const c = container(m);
    const pod = m.deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(uid), runAsGroup: Number(gid) });
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: Number(uid),
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    // The command is the image's CLI (the entry point's first two words), without its --host/--tls-dir.
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    expect(c.command).toEqual(entrypoint.slice(0, 2));
    expect(c.args[0]).toBe('start');
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
      expect(probe.httpGet).toEqual({ path: healthPath, port: 'services', scheme: 'HTTP' });
      expect(c.ports.find((p) => p.name === probe.httpGet.port)?.containerPort).toBe(defaultPorts.services);
    }
    expect(c.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(c.resources.limits.memory).toBe('512Mi');
    expect(m.deployment.spec.replicas).toBe(1);
  });

  it('what the emulator writes goes to the emptyDir; the scenario comes from the ConfigMap', () => {
    const c = container(m);
    const arg = (flag: string): string => c.args[c.args.indexOf(flag) + 1];
    const data = c.volumeMounts.find((v) => v.name === 'data')!;
    expect(m.deployment.spec.template.spec.volumes.find((v) => v.name === 'data')).toMatchObject({ emptyDir: {} });
    expect(arg('--tls-dir').startsWith(`${data.mountPath}/`)).toBe(true);
    expect(arg('--state-dir').startsWith(`${data.mountPath}/`)).toBe(true);
    const scenario = c.volumeMounts.find((v) => v.name === 'scenario')!;
    expect(scenario.readOnly).toBe(true);
    expect(m.deployment.spec.template.spec.volumes.find((v) => v.name === 'scenario')).toEqual({
      name: 'scenario',
      configMap: { name: m.configMap.metadata.name },
    });
    expect(arg('--scenario')).toBe(`${scenario.mountPath}/scenario.yaml`);
    expect(m.configMap.data['scenario.yaml']).toBe(scenarioText);
    expect(arg('--host')).toBe('0.0.0.0');
    expect(arg('--advertised-host')).toBe(`btp-emulator.${namespace}.svc.cluster.local`);
  });

  it('the control token comes from a Secret, random unless given', async () => {
    const env = container(m).env.find((e) => e.name === 'BTP_EMULATOR_CONTROL_TOKEN')!;
    expect(env.value).toBeUndefined();
    expect(env.valueFrom?.secretKeyRef).toEqual({ name: m.controlSecret.metadata.name, key: 'token' });
    expect(m.controlSecret.stringData.token).toBe(m.controlToken);
    expect(m.controlToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await generateManifests({ scenarioText, namespace });
    expect(again.controlToken).not.toBe(m.controlToken);
    // A new token rolls the pod, so the running emulator never holds another token than its Secret.
    expect(again.deployment.spec.template.metadata.annotations).not.toEqual(m.deployment.spec.template.metadata.annotations);
    const fixed = await generateManifests({ scenarioText, namespace, controlToken: 'team-token' });
    expect(fixed.controlSecret.stringData.token).toBe('team-token');
  });

  it('the container and the Service declare every port of the ports table, by name', () => {
    const table = Object.entries(defaultPorts).map(([key, port]) => ({ name: portName(key), port }));
    expect(container(m).ports.map((p) => ({ name: p.name, port: p.containerPort }))).toEqual(table);
    expect(m.service.spec.ports.map((p) => ({ name: p.name, port: p.port }))).toEqual(table);
    for (const p of m.service.spec.ports) expect(p.targetPort).toBe(p.name);
    expect(m.service.spec).toMatchObject({ type: 'ClusterIP', selector: m.deployment.spec.selector.matchLabels });
    expect(m.service.metadata.name).toBe('btp-emulator');
  });

  it('one Secret per binding, its keys the files of the SERVICE_BINDING_ROOT directory, the URLs the Service name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-bindings-'));
    try {
      // The same bindings written as a directory by the sdk-adapters writer: each Secret holds exactly those files.
      const scenario = parseScenarioText(scenarioText, defaultScenarioFile);
      const host = `btp-emulator.${namespace}.svc.cluster.local`;
      const vcapServices = buildVcapServices(buildState(scenario, Date.now()), {
        serviceUrl: `http://${host}:20000`,
        uaaDomain: `${host}:20000`,
        proxyHost: host,
        httpProxyPort: 20003,
        socksProxyPort: 20004,
        identityOrigin: `https://${host}:20006`,
      });
      writeServiceBindingRoot({ vcapServices }, { dir });
      const paths = m.bindingSecrets.map((s) => s.metadata.annotations?.['btp-emulator/service-binding-path']);
      expect(paths.sort()).toEqual(readdirSync(dir).sort());
      for (const secret of m.bindingSecrets) {
        const path = secret.metadata.annotations!['btp-emulator/service-binding-path'];
        const files = Object.fromEntries(readdirSync(join(dir, path)).map((f) => [f, readFileSync(join(dir, path, f), 'utf8')]));
        expect(secret.stringData).toEqual(files);
        expect(Object.keys(secret.stringData)).toEqual(expect.arrayContaining(['type', 'clientid', 'clientsecret', 'url', '.metadata']));
        // The identity binding (IAS) names the identity port, TLS only.
        expect(secret.stringData.url).toBe(secret.stringData.type === 'identity' ? `https://${host}:20006` : `http://${host}:20000`);
      }
      const connectivity = m.bindingSecrets.find((s) => s.stringData.type === 'connectivity')!;
      expect(connectivity.stringData).toMatchObject({
        onpremise_proxy_host: host,
        onpremise_proxy_http_port: '20003',
        onpremise_socks5_proxy_port: '20004',
      });
      expect(m.bindingSecrets.find((s) => s.stringData.type === 'destination')!.stringData.uri).toBe(`http://${host}:20000`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the sap-k8s layout puts each binding below its label', async () => {
    const sap = await generateManifests({ scenarioText, namespace, layout: 'sap-k8s' });
    validateAll(sap.manifests);
    expect(sap.bindingSecrets.map((s) => s.metadata.annotations?.['btp-emulator/service-binding-path'])).toEqual([
      'xsuaa/my-xsuaa',
      'destination/my-destination',
      'connectivity/my-connectivity',
      'identity/my-ias',
    ]);
    expect(sap.bindingSecrets[0].stringData).not.toHaveProperty('.metadata');
  });

  it("the binding Secrets go into the app's namespace when it is another", async () => {
    const apps = await generateManifests({ scenarioText, namespace, bindingNamespace: 'apps' });
    validateAll(apps.manifests);
    expect(apps.bindingSecrets.map((s) => s.metadata.namespace)).toEqual(['apps', 'apps', 'apps', 'apps']);
    expect(apps.bindingSecrets[0].stringData.url).toBe(`http://btp-emulator.${namespace}.svc.cluster.local:20000`);
    expect(apps.controlSecret.metadata.namespace).toBe(namespace);
  });

  it("docs/kubernetes.md's app Deployment is valid and mounts every binding Secret at its path", () => {
    const docs = readFileSync(join(root, 'docs', 'kubernetes.md'), 'utf8');
    const block = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((b) => b[1]).find((b) => b.includes('kind: Deployment'))!;
    const app = parseAllDocuments(block)[0].toJS() as IDeployment;
    expect(() => new Deployment(app).validate()).not.toThrow();
    const spec = app.spec!.template.spec!;
    const rootEnv = spec.containers[0].env!.find((e) => e.name === 'SERVICE_BINDING_ROOT')!.value!;
    const mounts = spec.containers[0].volumeMounts!.map((v) => [
      spec.volumes!.find((x) => x.name === v.name)!.secret!.secretName,
      v.mountPath,
    ]);
    expect(mounts).toEqual(
      m.bindingSecrets.map((s) => [s.metadata.name, `${rootEnv}/${s.metadata.annotations!['btp-emulator/service-binding-path']}`]),
    );
  });

  it('names and namespaces a cluster would refuse are refused before anything is written', async () => {
    await expect(generateManifests({ scenarioText, namespace: 'Team_1' })).rejects.toThrow(
      /--namespace "Team_1" is not a Kubernetes namespace name/,
    );
    await expect(generateManifests({ scenarioText, namespace, name: '1emu' })).rejects.toThrow(
      /--name "1emu" is not a Kubernetes Service name/,
    );
    await expect(generateManifests({ scenarioText: 'name: x\n', namespace })).rejects.toThrow(/tenants/);
  });
});

describe('btp-emulator k8s: one Service per Destination custom resource', () => {
  const ports = { ...defaultPorts, transparentProxy: 20005 };
  const crs: DestinationServiceSpec[] = [
    { name: 'orders' },
    { name: 'stock', port: 8080 },
    { name: 'erp-tcp', port: 20004, targetPort: 20040 },
    { name: 'billing', namespace: 'apps' },
    { name: 'mail', tenantSubdomains: ['subscriber1'] },
  ];
  let m: ClusterManifests;
  beforeAll(async () => {
    m = await generateManifests({ scenarioText, namespace, ports, destinations: crs });
  });

  it('each CR gets a valid Service with its name, in its namespace, on its port, to the Transparent Proxy', () => {
    validateAll(m.manifests);
    const byName = (name: string, ns = namespace): ServiceManifest =>
      m.destinationServices.find((s) => s.metadata.name === name && s.metadata.namespace === ns)!;
    expect(m.destinationServices.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual([
      'team/orders',
      'team/stock',
      'team/erp-tcp',
      'apps/billing',
      'team/mail',
      'team/mail-subscriber1',
    ]);
    const selector = m.deployment.spec.selector.matchLabels;
    expect(byName('orders').spec).toEqual({
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'tp-80', port: 80, targetPort: 20005, protocol: 'TCP' }],
    });
    expect(byName('stock').spec.ports[0]).toMatchObject({ port: 8080, targetPort: 20005 });
    expect(byName('erp-tcp').spec.ports[0]).toMatchObject({ port: 20004, targetPort: 20040 });
    expect(byName('mail-subscriber1').spec).toEqual(byName('mail').spec);
    // Another namespace: a name for the emulator's Service, which takes the CR's port to the Transparent Proxy.
    expect(byName('billing', 'apps').spec).toMatchObject({ type: 'ExternalName', externalName: 'btp-emulator.team.svc.cluster.local' });
    expect(m.service.spec.ports).toContainEqual({ name: 'tp-80', port: 80, targetPort: 20005, protocol: 'TCP' });
  });

  it('the Deployment declares the Transparent Proxy port and every other port a CR targets', () => {
    const declared = container(m).ports.map((p) => p.containerPort);
    expect(declared).toContain(20005);
    expect(declared).toContain(20040);
    expect(m.service.spec.ports.find((p) => p.port === 20005)).toMatchObject({ name: 'transp-proxy', targetPort: 'transp-proxy' });
  });

  it("a scenario's destinationCustomResources: the Transparent Proxy's own Services (crServices), to its port", async () => {
    // Two CRs: one in the emulator's namespace with the tenant-subdomains annotation, one in another namespace on 8080.
    const scenario = parseYaml(scenarioText) as Record<string, unknown>;
    scenario.destinationCustomResources = [
      {
        apiVersion: 'destination.connectivity.api.sap/v1',
        kind: 'Destination',
        metadata: {
          name: 'orders',
          namespace,
          annotations: { 'transparent-proxy.connectivity.api.sap/tenant-subdomains': '["subscriber1"]' },
        },
        spec: { destinationRef: { name: 'BACKEND_NOAUTH' } },
      },
      {
        apiVersion: 'destination.connectivity.api.sap/v1',
        kind: 'Destination',
        metadata: { name: 'erp', namespace: 'apps' },
        spec: { destinationRef: { name: 'ONPREM_BASIC' }, service: { port: 8080 } },
      },
    ];
    const text = stringifyYaml(scenario);
    const fromScenario = await generateManifests({ scenarioText: text, namespace });
    validateAll(fromScenario.manifests);
    const crs = destinationCustomResourcesOf(parseScenarioText(text));
    // Exactly the Services the proxy's routing answers to, each on its CR's port.
    const expected = crs.flatMap((cr) => crServices(cr).map((s) => `${s.namespace}/${s.name}:${s.port}`));
    expect(expected).toEqual(['team/orders:80', 'team/orders-subscriber1:80', 'apps/erp:8080']);
    expect(fromScenario.destinationServices.map((s) => `${s.metadata.namespace}/${s.metadata.name}:${s.spec.ports[0].port}`)).toEqual(
      expected,
    );
    const byName = (name: string): ServiceManifest => fromScenario.destinationServices.find((s) => s.metadata.name === name)!;
    const selector = fromScenario.deployment.spec.selector.matchLabels;
    for (const name of ['orders', 'orders-subscriber1'])
      expect(byName(name).spec).toEqual({
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'tp-80', port: 80, targetPort: defaultPorts.transparentProxy, protocol: 'TCP' }],
      });
    expect(byName('orders-subscriber1').metadata.labels!['btp-emulator/destination-cr']).toBe('orders');
    expect(byName('erp').spec).toEqual({
      type: 'ExternalName',
      externalName: `btp-emulator.${namespace}.svc.cluster.local`,
      ports: [{ name: 'tp-8080', port: 8080, targetPort: 8080, protocol: 'TCP' }],
    });
    // The Transparent Proxy port is on the pod and the emulator's Service (the ports table), and 8080 leads to it.
    expect(container(fromScenario).ports).toContainEqual({
      name: 'transp-proxy',
      containerPort: defaultPorts.transparentProxy,
      protocol: 'TCP',
    });
    expect(fromScenario.service.spec.ports).toContainEqual({
      name: 'transp-proxy',
      port: 20005,
      targetPort: 'transp-proxy',
      protocol: 'TCP',
    });
    expect(fromScenario.service.spec.ports).toContainEqual({ name: 'tp-8080', port: 8080, targetPort: 20005, protocol: 'TCP' });
    expect(destinationSpecsOf(parseScenarioText(scenarioText, defaultScenarioFile))).toEqual([]);
  });

  it('the bundled Kyma scenario (fixtures/kyma.scenario.yaml) gives ClusterIP Services in namespace default', async () => {
    const kyma = await generateManifests({
      scenarioText: readFileSync(kymaScenarioFile, 'utf8'),
      scenarioSource: kymaScenarioFile,
      namespace: 'default',
    });
    validateAll(kyma.manifests);
    expect(kyma.destinationServices.map((s) => [s.metadata.name, s.spec.type])).toEqual([
      ['orders', 'ClusterIP'],
      ['orders-subscriber1', 'ClusterIP'],
      ['erp', 'ClusterIP'],
    ]);
    // Its connectivity proxy is Kyma's trusted one; the ConfigMap carries the scenario as given.
    expect(kyma.configMap.data['scenario.yaml']).toMatch(/connectivityProxy:\n {2}mode: trusted/);
  });

  it("the strict scenario schema refuses the generator's old fallback keys, naming them", () => {
    const refused =
      (extra: string): unknown =>
      () =>
        parseScenarioText(`${scenarioText}\n${extra}`, 'x.yaml');
    expect(refused('kubernetes:\n  destinations: []\n')).toThrow(/kubernetes: unknown key/);
    expect(refused('transparentProxy:\n  destinations: []\n')).toThrow(/transparentProxy\.destinations: unknown key/);
  });

  it('refuses CRs without a Transparent Proxy port, and a port another namespace cannot reach', async () => {
    // The ports table has the Transparent Proxy now; an emulator without it (an older image) is what this refuses.
    const { transparentProxy: _withoutProxy, ...olderPorts } = defaultPorts;
    await expect(generateManifests({ scenarioText, namespace, ports: olderPorts, destinations: [{ name: 'orders' }] })).rejects.toThrow(
      /Destination custom resource\(s\) \(orders\), but this emulator has no Transparent Proxy port/,
    );
    await expect(
      generateManifests({ scenarioText, namespace, ports, destinations: [{ name: 'tcp', namespace: 'apps', port: 20004 }] }),
    ).rejects.toThrow(/its port 20004 .* is already "socks5"/);
    await expect(generateManifests({ scenarioText, namespace, ports, destinations: [{ name: 'a' }, { name: 'a' }] })).rejects.toThrow(
      /two Destination CRs make the Service a/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The emulator as the pod runs it.

/** A ConfigMap or Secret volume as the kubelet writes it: the files in a timestamped folder, `..data` and links. */
function mountLikeKubelet(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const stamp = '..2026_01_01_00_00_00.000000001';
  mkdirSync(join(dir, stamp));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, stamp, name), content);
  symlinkSync(stamp, join(dir, '..data'));
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
}

/** Whether a port is free on every interface, as the pod would bind it. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

interface Pod {
  child: ChildProcess;
  stderr: () => string;
  /** The Deployment's port → where it listens here (the same unless the Deployment's ports were taken). */
  port: (containerPort: number) => number;
  overridden: boolean;
  /** The temp folder standing for the pod's file system. */
  root: string;
}

function startAsPod(m: ClusterManifests, podRoot: string, overridePorts?: Record<number, number>): Promise<Pod> {
  const c = container(m);
  const pod = m.deployment.spec.template.spec;
  // The volumes, at temp paths: the ConfigMap and the emptyDir (world-writable and root-owned, as the kubelet makes it).
  const hostDirs = new Map<string, string>();
  for (const mount of c.volumeMounts) {
    const volume = pod.volumes.find((v) => v.name === mount.name)!;
    const dir = join(podRoot, mount.mountPath);
    if ('configMap' in volume) {
      expect(volume.configMap.name).toBe(m.configMap.metadata.name);
      mountLikeKubelet(dir, m.configMap.data);
    } else {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
    }
    hostDirs.set(mount.mountPath, dir);
  }
  const toHost = (arg: string): string => {
    for (const [mountPath, dir] of hostDirs)
      if (arg === mountPath || arg.startsWith(`${mountPath}/`)) return dir + arg.slice(mountPath.length);
    return arg;
  };
  // The environment the Deployment gives it: its env, the Secret references resolved, and nothing of ours.
  const secrets = [m.controlSecret, ...m.bindingSecrets];
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: podRoot };
  for (const e of c.env) {
    const ref = e.valueFrom?.secretKeyRef;
    env[e.name] = ref ? secrets.find((s) => s.metadata.name === ref.name)!.stringData[ref.key] : e.value!;
  }
  // The image runs dist/emulator/cli/bin.js; the repository runs the same CLI from its sources.
  expect(c.command).toEqual(['node', 'dist/emulator/cli/bin.js']);
  const args = c.args.map(toHost);
  if (overridePorts) {
    for (const [key, port] of Object.entries(defaultPorts)) {
      const flags = portFlags[key as keyof typeof portFlags];
      if (!flags)
        throw new Error(`no start flag known for the ports-table entry ${key}: add it to portFlags in emulator/testcontainers/index.ts`);
      args.push(flags[0], String(overridePorts[port]));
      if (flags[1]) args.push(flags[1], String(port));
    }
  }
  const child = spawn(process.execPath, [cliBin, ...args], { cwd: podRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/btp-emulator ready/.test(stdout))
        resolve({
          child,
          stderr: () => stderr,
          port: (p) => overridePorts?.[p] ?? p,
          overridden: overridePorts !== undefined,
          root: podRoot,
        });
    });
    child.once('exit', (code) => reject(Object.assign(new Error(`the emulator exited (${code}): ${stderr}`), { stderr })));
  });
}

interface PodResponse {
  status: number;
  body: string;
  json: () => unknown;
}

/**
 * A request from a pod in the cluster: the cluster DNS names of the emulator's Service (`btp-emulator`,
 * `btp-emulator.team`, `….svc`, `….svc.cluster.local`) resolve to it; `Host` is the name the URL gives.
 */
function podRequest(
  pod: Pod,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  hostHeader?: string,
): Promise<PodResponse> {
  const target = new URL(url);
  const clusterName = /^btp-emulator(\.team(\.svc(\.cluster\.local)?)?)?$/;
  const lookup: LookupFunction = (hostname, options, callback) => {
    if (!clusterName.test(hostname) && hostname !== '127.0.0.1') {
      callback(Object.assign(new Error(`no cluster name: ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
      return;
    }
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: pod.port(Number(target.port || 80)),
        path: `${target.pathname}${target.search}`,
        method: init.method ?? 'GET',
        headers: { host: hostHeader ?? target.host, ...init.headers },
        lookup,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) as unknown }));
      },
    );
    req.once('error', reject);
    req.end(init.body);
  });
}

/** The bundled scenario with a Destination CR in the emulator's namespace, for the Transparent Proxy's Service. */
const podScenarioText = `${scenarioText}
destinationCustomResources:
  - apiVersion: destination.connectivity.api.sap/v1
    kind: Destination
    metadata: { name: erp, namespace: ${namespace} }
    spec: { destinationRef: { name: ONPREM_BASIC } }
`;

describe('btp-emulator k8s: the emulator as the Deployment starts it, called as a pod calls it', () => {
  let m: ClusterManifests;
  let pod: Pod;
  let podRoot: string;
  const saved = { SERVICE_BINDING_ROOT: process.env.SERVICE_BINDING_ROOT, VCAP_SERVICES: process.env.VCAP_SERVICES };

  beforeAll(async () => {
    m = await generateManifests({ scenarioText: podScenarioText, scenarioSource: defaultScenarioFile, namespace });
    podRoot = mkdtempSync(join(tmpdir(), 'k8s-pod-'));
    const table = Object.values(defaultPorts);
    const free = (await Promise.all(table.map(portFree))).every(Boolean);
    const override = async (): Promise<Record<number, number>> =>
      Object.fromEntries(await Promise.all(table.map(async (p) => [p, await freePort()])));
    try {
      // The Deployment's own ports when this machine has them free; else free ones, advertised as the Deployment's.
      pod = await startAsPod(m, join(podRoot, 'first'), free ? undefined : await override());
    } catch (err) {
      if (!/in use/.test((err as { stderr?: string }).stderr ?? '')) throw err;
      pod = await startAsPod(m, join(podRoot, 'second'), await override());
    }
    if (pod.overridden)
      console.info(
        "kubernetes.test.ts: the Deployment's ports are taken here; the emulator listens on free ones, advertised as the Deployment's",
      );
    // The app pod: every binding Secret mounted at $SERVICE_BINDING_ROOT/<its path>, as docs/kubernetes.md shows.
    const bindingRoot = join(podRoot, 'bindings');
    for (const secret of m.bindingSecrets)
      mountLikeKubelet(join(bindingRoot, secret.metadata.annotations!['btp-emulator/service-binding-path']), secret.stringData);
    delete process.env.VCAP_SERVICES;
    process.env.SERVICE_BINDING_ROOT = bindingRoot;
  }, 60_000);

  afterAll(() => {
    pod?.child.kill('SIGKILL');
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    if (podRoot) rmSync(podRoot, { recursive: true, force: true });
  });

  const credentials = (label: string): Record<string, string> => {
    const [binding] = xsenv.filterServices({ label });
    expect(binding, `a ${label} binding in SERVICE_BINDING_ROOT`).toBeDefined();
    return binding.credentials;
  };

  async function token(label: string, hostHeader?: string): Promise<string> {
    const creds = credentials(label);
    const res = await podRequest(
      pod,
      `${creds.url}/oauth/token`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${creds.clientid}:${creds.clientsecret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      },
      hostHeader,
    );
    expect(res.status, res.body).toBe(200);
    return (res.json() as { access_token: string }).access_token;
  }

  it('starts from the mounted ConfigMap, on 0.0.0.0 with a control token, without warnings; its TLS material in the emptyDir', () => {
    expect(pod.stderr()).toBe('');
    const dataMount = container(m).volumeMounts.find((v) => v.name === 'data')!.mountPath;
    const base = join(pod.root, dataMount);
    expect(existsSync(join(base, 'tls', 'ca', 'ca.pem'))).toBe(true);
    expect(existsSync(join(base, 'state'))).toBe(true);
  });

  it("answers the kubelet's probe, which names the pod IP", async () => {
    const probe = container(m).livenessProbe.httpGet;
    const port = container(m).ports.find((p) => p.name === probe.port)!.containerPort;
    const res = await podRequest(pod, `http://127.0.0.1:${port}${probe.path}`, {}, `10.244.1.17:${port}`);
    expect(res.status).toBe(200);
    // Only the probe: the pod IP is no name of the emulator's, so the services refuse it (the Host rule).
    expect((await podRequest(pod, `http://127.0.0.1:${port}/oauth/token`, { method: 'POST' }, `10.244.1.17:${port}`)).status).toBe(403);
  });

  it("gives a token to the XSUAA binding Secret's client, by every name of the Service", async () => {
    const jwt = decodeJwt(await token('xsuaa'));
    expect(jwt.client_id).toBe(credentials('xsuaa').clientid);
    expect(String(jwt.iss)).toContain(`btp-emulator.${namespace}.svc.cluster.local:20000`);
    for (const host of ['btp-emulator:20000', `btp-emulator.${namespace}:20000`, `btp-emulator.${namespace}.svc:20000`])
      expect(decodeJwt(await token('xsuaa', host)).client_id).toBe(credentials('xsuaa').clientid);
  });

  it('finds a destination with the destination binding Secret; its URL is the backend behind the Service', async () => {
    const creds = credentials('destination');
    const res = await podRequest(pod, `${creds.uri}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
      headers: { authorization: `Bearer ${await token('destination')}` },
    });
    expect(res.status, res.body).toBe(200);
    const url = (res.json() as { destinationConfiguration: { URL: string } }).destinationConfiguration.URL;
    expect(url).toBe(`http://btp-emulator.${namespace}.svc.cluster.local:${defaultPorts.backendHttp}`);
    const backend = await podRequest(pod, `${url}/ping`);
    expect(backend.status).toBeLessThan(500);
  });

  it("a pod calls a Destination CR's Service by its cluster name; the Transparent Proxy takes it on-premise", async () => {
    const service = m.destinationServices.find((s) => s.metadata.name === 'erp')!;
    expect(service.spec.type).toBe('ClusterIP');
    const [port] = service.spec.ports;
    expect(port).toMatchObject({ port: 80, targetPort: defaultPorts.transparentProxy });
    // In the cluster http://erp.team/… reaches the Service's port 80, which forwards to the pod's targetPort.
    const res = await podRequest(pod, `http://127.0.0.1:${port.targetPort}/sap/bc/echo?top=2`, {}, `erp.${namespace}`);
    expect(res.status, res.body).toBe(200);
    const echo = res.json() as { path: string; query: Record<string, string>; headers: Record<string, string> };
    expect(echo).toMatchObject({ path: '/sap/bc/echo', query: { top: '2' } });
    // What the backend received through the Cloud Connector mapping: the virtual host, the destination's Basic user.
    expect(echo.headers.host).toBe('erp.internal:44300');
    expect(echo.headers.authorization).toBe(`Basic ${Buffer.from('erp-user:erp-password').toString('base64')}`);
  });

  it("the control API wants the control Secret's token; its bindings are the binding Secrets", async () => {
    const env = `http://btp-emulator.${namespace}.svc.cluster.local:20000/_emulator/env`;
    expect((await podRequest(pod, env)).status).toBe(401);
    const res = await podRequest(pod, env, { headers: { authorization: `Bearer ${m.controlSecret.stringData.token}` } });
    expect(res.status).toBe(200);
    const vcap = JSON.parse((res.json() as { VCAP_SERVICES: string }).VCAP_SERVICES) as Record<
      string,
      { name: string; credentials: Record<string, unknown> }[]
    >;
    for (const secret of m.bindingSecrets) {
      const [binding] = vcap[secret.stringData.type];
      expect(binding.name).toBe(secret.metadata.labels!['btp-emulator/binding']);
      for (const [key, value] of Object.entries(binding.credentials))
        expect(secret.stringData[key], `${secret.metadata.name} ${key}`).toBe(typeof value === 'string' ? value : JSON.stringify(value));
    }
  });
});

describe("a Kyma app's local loop in-process (docs/kubernetes.md, (c)): fixtures/kyma.scenario.yaml", () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startEmulator({ scenario: kymaScenarioFile, port: 0 });
  }, 60_000);
  afterAll(() => emu?.stop());

  /** GET as a pod sends it: to `port` (default the Transparent Proxy's), the path as given, with that Host. */
  const clusterGet = (host: string, path: string, port = emu.ports.transparentProxy): Promise<PodResponse> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body, json: () => JSON.parse(body) as unknown }));
      });
      req.on('error', reject);
      req.end();
    });
  type Echo = { path: string; headers: Record<string, string | undefined> };
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('each CR by its Service name: Internet with the Basic header the proxy adds, the per-tenant Service, OnPremise', async () => {
    const orders = await clusterGet('orders.default', '/orders?top=2');
    expect(orders.status, orders.body).toBe(200);
    expect(orders.json()).toMatchObject({
      path: '/orders-api/orders',
      headers: { authorization: basic('orders-user', 'orders-password') },
    });
    const subscriber = await clusterGet('orders-subscriber1.default.svc.cluster.local', '/orders');
    expect((subscriber.json() as Echo).path).toBe('/subscriber1/orders-api/orders');
    expect((subscriber.json() as Echo).headers.authorization).toBeUndefined();
    const erp = await clusterGet('erp.default', '/sap/opu/odata/orders');
    expect(erp.json()).toMatchObject({
      path: '/sap/opu/odata/orders',
      headers: { host: 'erp.internal:44300', authorization: basic('erp-user', 'erp-password') },
    });
  });

  it('the connectivity proxy is in trusted mode: a virtual host without Proxy-Authorization', async () => {
    const res = await clusterGet('erp.internal:44300', 'http://erp.internal:44300/sap/bc/echo', emu.ports.httpProxy);
    expect(res.status, res.body).toBe(200);
    expect(res.json()).toMatchObject({ path: '/sap/bc/echo', headers: { host: 'erp.internal:44300' } });
  });

  it("Node's fetch drops a Host header (a forbidden header), so the proxy sees the URL's host and answers 404", async () => {
    const res = await fetch(`${emu.urls.transparentProxy}/orders`, { headers: { host: 'orders.default' } });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("No Destination CR serves the host 'localhost:");
  });
});

describe('btp-emulator k8s on the command line', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const run = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cliBin, 'k8s', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('writes the manifests as one YAML stream that kubectl apply -f - reads, the token not repeated', async () => {
    const result = await run(['--namespace', namespace, '--control-token', 'cli-token']);
    expect(result.code, result.stderr).toBe(0);
    const docs = parseAllDocuments(result.stdout).map((d) => d.toJS() as Manifest);
    const expected = await generateManifests({ scenarioText, scenarioSource: defaultScenarioFile, namespace, controlToken: 'cli-token' });
    expect(docs).toEqual(JSON.parse(JSON.stringify(expected.manifests)));
    validateAll(docs);
    expect(result.stdout.split('\n')[0]).toBe(
      "# Generated by btp-emulator k8s (btp-emulator k8s --namespace team --control-token …). It holds Secrets: the control token and the bindings' client secrets.",
    );
    expect(result.stderr).toContain('its control token is in Secret btp-emulator-control');
  });

  it('--out DIR writes one file per resource and replaces the files of an earlier run; --out FILE.yaml one stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-out-'));
    dirs.push(dir);
    writeFileSync(join(dir, '99-secret-stale.yaml'), '# Generated by btp-emulator k8s (old)\n');
    writeFileSync(join(dir, 'mine.yaml'), 'kind: ConfigMap\n');
    const result = await run(['--namespace', namespace, '--out', dir, '--image', 'registry.example/btp-emulator:1']);
    expect(result.code, result.stderr).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toEqual([
      '01-configmap-btp-emulator-scenario.yaml',
      '02-secret-btp-emulator-control.yaml',
      '03-secret-btp-emulator-binding-my-xsuaa.yaml',
      '04-secret-btp-emulator-binding-my-destination.yaml',
      '05-secret-btp-emulator-binding-my-connectivity.yaml',
      '06-secret-btp-emulator-binding-my-ias.yaml',
      '07-deployment-btp-emulator.yaml',
      '08-service-btp-emulator.yaml',
      'mine.yaml',
    ]);
    const deployment = parseAllDocuments(
      readFileSync(join(dir, '07-deployment-btp-emulator.yaml'), 'utf8'),
    )[0].toJS() as DeploymentManifest;
    expect(deployment.spec.template.spec.containers[0].image).toBe('registry.example/btp-emulator:1');
    const file = join(dir, 'all.yaml');
    expect((await run(['--namespace', namespace, '--out', file])).code).toBe(0);
    const kinds = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => (d.toJS() as SecretManifest).kind);
    expect(kinds).toEqual(['ConfigMap', 'Secret', 'Secret', 'Secret', 'Secret', 'Secret', 'Deployment', 'Service']);
  });

  it('exits 2 naming the mistake', async () => {
    const missing = await run([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('k8s needs --namespace NS');
    const bad = await run(['--namespace', 'Team']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--namespace "Team" is not a Kubernetes namespace name');
    const layout = await run(['--namespace', namespace, '--layout', 'flat']);
    expect(layout.code).toBe(2);
    expect(layout.stderr).toContain('--layout must be one of servicebinding.io, sap-k8s');
    const scenario = await run(['--namespace', namespace, '--scenario', join(root, 'package.json')]);
    expect(scenario.code).toBe(2);
    expect(scenario.stderr).toContain('the scenario is refused');
  });
});
