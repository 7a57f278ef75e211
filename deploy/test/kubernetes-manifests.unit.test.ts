import { generateKeyPairSync } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ConfigError } from "@kombify/service-core/config";
import { SUBGRAPHS, subgraphUrlVariable } from "@kombify/service-core/federation";
import { parseSubgraphSettings, type SubgraphDefinition } from "@kombify/service-core/server/subgraph-runtime";
import { parseGatewayConfig } from "../../gateway/src/config.js";
import { billingSubgraph } from "../../subgraphs/billing/src/billing-subgraph.js";
import { identitySubgraph } from "../../subgraphs/identity/src/identity-subgraph.js";
import { simulationSubgraph } from "../../subgraphs/simulation/src/simulation-subgraph.js";
import { stackSubgraph } from "../../subgraphs/stack/src/stack-subgraph.js";
import { stackKitSubgraph } from "../../subgraphs/stackkit/src/stackkit-subgraph.js";
import { tenantSubgraph } from "../../subgraphs/tenant/src/tenant-subgraph.js";
import { imageName, kustomizeBuild, objectId, repositoryRoot, type K8sObject } from "./kustomize.js";
import { unknownFields } from "./unknown-fields.js";

const KUBERNETES = join(repositoryRoot, "deploy/kubernetes");
const PRODUCTION = join(KUBERNETES, "overlays/production");
const PLACEHOLDER = "REPLACE_ME";

/** Every kind the manifests may use, with its API schema (kubernetes-models) and its interface for unknown fields. */
type Model = new (data: never) => { validate(): void };
const KINDS: Record<string, { model: Model; module: string; name: string }> = {
  "v1/Namespace": { model: Namespace, module: "kubernetes-models/v1/Namespace", name: "INamespace" },
  "v1/ConfigMap": { model: ConfigMap, module: "kubernetes-models/v1/ConfigMap", name: "IConfigMap" },
  "v1/Secret": { model: Secret, module: "kubernetes-models/v1/Secret", name: "ISecret" },
  "v1/Service": { model: Service, module: "kubernetes-models/v1/Service", name: "IService" },
  "apps/v1/Deployment": { model: Deployment, module: "kubernetes-models/apps/v1/Deployment", name: "IDeployment" },
  "autoscaling/v2/HorizontalPodAutoscaler": {
    model: HorizontalPodAutoscaler,
    module: "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
    name: "IHorizontalPodAutoscaler",
  },
  "policy/v1/PodDisruptionBudget": { model: PodDisruptionBudget, module: "kubernetes-models/policy/v1/PodDisruptionBudget", name: "IPodDisruptionBudget" },
  "networking.k8s.io/v1/NetworkPolicy": { model: NetworkPolicy, module: "kubernetes-models/networking.k8s.io/v1/NetworkPolicy", name: "INetworkPolicy" },
};

/** Validates one object against its kind's API schema; a kind without one is an error, not a pass. */
function validateAgainstSchema(object: K8sObject): void {
  const kind = KINDS[`${object.apiVersion}/${object.kind}`];
  if (!kind) throw new Error(`${objectId(object)}: ${object.apiVersion} ${object.kind} is not a kind this test has a schema for`);
  new kind.model(structuredClone(object) as never).validate();
}

// What `kubectl apply -k` would send: the base, the production overlay, and the overlay with the docker-in-docker
// component enabled as its kustomization's comment says.
const BUILDS = {
  base: kustomizeBuild(join(KUBERNETES, "base")),
  production: kustomizeBuild(PRODUCTION),
  "production with docker-in-docker": kustomizeBuild(PRODUCTION, ["../../components/docker-in-docker"]),
};
const PRODUCTION_BUILDS = { production: BUILDS.production, "production with docker-in-docker": BUILDS["production with docker-in-docker"] };

/** Each Deployment, the entry point its SERVICE selects in docker/Dockerfile, and the configuration parser that entry point runs. */
const SERVICES: Record<string, { entry: string; parse: (env: NodeJS.ProcessEnv) => unknown }> = {
  gateway: { entry: "gateway", parse: (env) => parseGatewayConfig(env) },
  tenant: { entry: "subgraphs/tenant", parse: (env) => parseSubgraphSettings(tenantSubgraph, env) },
  identity: { entry: "subgraphs/identity", parse: (env) => parseSubgraphSettings(identitySubgraph, env) },
  stack: { entry: "subgraphs/stack", parse: (env) => parseSubgraphSettings(stackSubgraph as SubgraphDefinition<any>, env) },
  simulation: { entry: "subgraphs/simulation", parse: (env) => parseSubgraphSettings(simulationSubgraph as SubgraphDefinition<any>, env) },
  stackkit: { entry: "subgraphs/stackkit", parse: (env) => parseSubgraphSettings(stackKitSubgraph, env) },
  billing: { entry: "subgraphs/billing", parse: (env) => parseSubgraphSettings(billingSubgraph, env) },
};

/** Variables each service needs in production: required by its parser there, or needed to work in a cluster. */
const SUBGRAPH_URLS = SUBGRAPHS.map(({ name }) => subgraphUrlVariable(name));
const KERNEL = ["NODE_ENV", "HOST", "PORT", "DATABASE_URL", "CONTEXT_VERIFY_KEY"];
const POCKETBASE = ["POCKETBASE_URL", "POCKETBASE_SUPERUSER_EMAIL", "POCKETBASE_SUPERUSER_PASSWORD"];
const REQUIRED: Record<string, string[]> = {
  gateway: ["NODE_ENV", "HOST", "PORT", "DATABASE_URL", "CONTEXT_SIGNING_KEY", "OIDC_ISSUER", "OIDC_AUDIENCE", "PLATFORM_ORG_ID", "REDIS_URL", "METRICS_HOST", "METRICS_PORT", ...SUBGRAPH_URLS],
  tenant: [...KERNEL, ...POCKETBASE, "STACK_INSTANCE_NAME", "STACK_INSTANCE_REGION"],
  identity: [...KERNEL, ...POCKETBASE],
  stack: [...KERNEL, ...POCKETBASE, "DOCKER_HOST"],
  simulation: [...KERNEL, "DOCKER_HOST", "SIMULATION_SSH_HOST", "SIMULATION_SSH_BIND"],
  stackkit: [...KERNEL, "STACKKIT_PUBLIC_URL", "STACKKIT_DOWNLOAD_SECRET"],
  billing: [...KERNEL, "BILLING_CHECKOUT_SUCCESS_URL", "BILLING_CHECKOUT_CANCEL_URL", "BILLING_PORTAL_RETURN_URL"],
};

/** Stand-ins of the right shape for the Secrets' placeholders, so the real parsers can judge everything else. */
const contextKeys = generateKeyPairSync("ed25519", { privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
const SECRET_STAND_INS: Record<string, string> = {
  DATABASE_URL: "postgres://kombify:stand-in@postgres.test:5432/kombify",
  CONTEXT_SIGNING_KEY: contextKeys.privateKey,
  CONTEXT_VERIFY_KEY: contextKeys.publicKey,
  REDIS_URL: "redis://redis.test:6379",
  POCKETBASE_SUPERUSER_PASSWORD: "a-stand-in-password",
  STACKKIT_DOWNLOAD_SECRET: "s".repeat(48),
  STRIPE_SECRET_KEY: "sk_test_standin",
  STRIPE_WEBHOOK_SECRET: "whsec_standin",
};

interface Probe {
  httpGet?: { path: string; port: number | string };
  tcpSocket?: { port: number | string };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    [other: string]: unknown;
  };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean }; prefix?: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: unknown; [source: string]: unknown }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
}
interface DeploymentObject extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    strategy?: { type: string };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}
interface ServiceObject extends K8sObject {
  spec: { type?: string; externalName?: string; selector?: Record<string, string>; ports: { name?: string; port: number; targetPort?: number | string }[] };
}

const ofKind = <T extends K8sObject>(objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind) as T[];
const deployments = (objects: K8sObject[]) => ofKind<DeploymentObject>(objects, "Deployment");
const isKombify = (container: Container) => imageName(container.image).endsWith("kombify/supergraph");
const kombifyContainer = (deployment: DeploymentObject) => {
  const containers = deployment.spec.template.spec.containers.filter(isKombify);
  expect(containers, `${deployment.metadata.name} runs exactly one kombify container`).toHaveLength(1);
  return containers[0]!;
};
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);
const selected = (objects: K8sObject[], selector: Record<string, string>) =>
  deployments(objects).filter((deployment) => matches(selector, deployment.spec.template.metadata.labels));

/** A container port by number or name. */
function containerPort(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === "number") return container.ports?.some((candidate) => candidate.containerPort === port) ? port : undefined;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

/** Where `host:port` leads from a pod of `from`: a container port of a Deployment, or a name outside the cluster. */
function destination(objects: K8sObject[], from: DeploymentObject, host: string, port: number): string {
  if (host === "127.0.0.1" || host === "localhost") {
    const container = from.spec.template.spec.containers.find((candidate) => containerPort(candidate, port) !== undefined);
    if (!container) throw new Error(`${from.metadata.name}: nothing in its pod listens on ${port}`);
    return `${from.metadata.name}/${container.name}:${port}`;
  }
  const service = ofKind<ServiceObject>(objects, "Service").find((candidate) => candidate.metadata.name === host);
  if (!service) throw new Error(`${from.metadata.name}: no Service named ${host}`);
  const servicePort = service.spec.ports.find((candidate) => candidate.port === port);
  if (!servicePort) throw new Error(`Service ${host} has no port ${port}`);
  if (service.spec.type === "ExternalName") return `external:${service.spec.externalName}:${port}`;
  const [target, ...others] = selected(objects, service.spec.selector ?? {});
  if (!target || others.length > 0) throw new Error(`Service ${host} selects ${others.length + (target ? 1 : 0)} Deployments`);
  for (const container of target.spec.template.spec.containers) {
    const resolved = containerPort(container, servicePort.targetPort ?? servicePort.port);
    if (resolved !== undefined) return `${target.metadata.name}/${container.name}:${resolved}`;
  }
  throw new Error(`Service ${host} port ${port} targets no port of ${target.metadata.name}`);
}

interface ResolvedEnv {
  env: Record<string, string>;
  /** Where each variable comes from: `literal`, `ConfigMap/<name>` (envFrom), `ConfigMap/<name>.<key>`, `Secret/<name>.<key>`. */
  origin: Record<string, string>;
  /** Variables from Secrets (their placeholders are replaced by stand-ins when `standIns`). */
  fromSecrets: Set<string>;
}

/** A container's environment as the kubelet builds it (envFrom, then env overriding), failing on any dangling reference. */
function resolveEnv(objects: K8sObject[], container: Container, standIns: boolean): ResolvedEnv {
  const find = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name) as
    | (K8sObject & { data?: Record<string, string>; stringData?: Record<string, string> })
    | undefined;
  const secretValue = (name: string, key: string, value: string) => {
    if (!standIns) return value;
    const standIn = SECRET_STAND_INS[key];
    if (standIn === undefined) throw new Error(`no stand-in for the Secret key ${key} (Secret/${name}): add one to SECRET_STAND_INS`);
    return standIn;
  };
  const resolved: ResolvedEnv = { env: {}, origin: {}, fromSecrets: new Set() };
  for (const source of container.envFrom ?? []) {
    expect(source.prefix, `${container.name}: envFrom prefix`).toBeUndefined();
    if (source.configMapRef) {
      const configMap = find("ConfigMap", source.configMapRef.name);
      if (!configMap) throw new Error(`${container.name}: envFrom ConfigMap/${source.configMapRef.name} is not in the build`);
      for (const [key, value] of Object.entries(configMap.data ?? {})) {
        resolved.env[key] = value;
        resolved.origin[key] = `ConfigMap/${source.configMapRef.name}`;
      }
    }
    if (source.secretRef) throw new Error(`${container.name}: envFrom a Secret hands over every key; reference each key with secretKeyRef`);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      resolved.env[variable.name] = variable.value;
      resolved.origin[variable.name] = "literal";
      continue;
    }
    const { configMapKeyRef, secretKeyRef, ...other } = variable.valueFrom ?? {};
    if (Object.keys(other).length > 0) throw new Error(`${container.name}: ${variable.name} uses ${Object.keys(other).join()}, which this test does not resolve`);
    const reference = configMapKeyRef ?? secretKeyRef;
    if (!reference) throw new Error(`${container.name}: ${variable.name} has neither a value nor a reference`);
    const kind = configMapKeyRef ? "ConfigMap" : "Secret";
    const object = find(kind, reference.name);
    const value = object?.data?.[reference.key] ?? object?.stringData?.[reference.key];
    if (value === undefined) {
      if (reference.optional) continue;
      throw new Error(`${container.name}: ${variable.name} refers to ${kind}/${reference.name} key ${reference.key}, which the build does not have`);
    }
    resolved.env[variable.name] = kind === "Secret" ? secretValue(reference.name, reference.key, value) : value;
    resolved.origin[variable.name] = `${kind}/${reference.name}.${reference.key}`;
    if (kind === "Secret") resolved.fromSecrets.add(variable.name);
  }
  return resolved;
}

/** Runs a service's own configuration parser on `env`, recording which variables it reads. */
function parseRecordingReads(service: string, env: Record<string, string>): { read: Set<string>; error?: unknown } {
  const read = new Set<string>();
  const recording = new Proxy(env, {
    get(target, key) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(target, key);
    },
  });
  try {
    SERVICES[service]!.parse(recording);
    return { read };
  } catch (error) {
    return { read, error };
  }
}

describe.each(Object.entries(BUILDS))("the Kubernetes manifests: %s", (_, objects) => {
  it("are all of kinds with an API schema, and valid against it (kubernetes-models)", () => {
    const problems: string[] = [];
    for (const object of objects) {
      try {
        validateAgainstSchema(object);
      } catch (error) {
        problems.push(`${objectId(object)}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("use no field the API does not know (the models' types, as kubectl's strict field validation would)", () => {
    expect(unknownFields(objects, KINDS)).toEqual([]);
  });

  it("have the gateway and the six subgraphs, each running its own entry point of the image", () => {
    expect(deployments(objects).map((deployment) => deployment.metadata.name).sort()).toEqual(Object.keys(SERVICES).sort());
    for (const deployment of deployments(objects)) {
      const container = kombifyContainer(deployment);
      const service = container.env?.find((variable) => variable.name === "SERVICE")?.value;
      expect(service, deployment.metadata.name).toBe(SERVICES[deployment.metadata.name]!.entry);
      // docker/Dockerfile runs "$SERVICE/src/main.ts".
      expect(existsSync(join(repositoryRoot, `${service}/src/main.ts`)), `${service}/src/main.ts`).toBe(true);
      expect(matches(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels), `${deployment.metadata.name}: selector matches its pods`).toBe(true);
      expect(deployments(objects).filter((other) => matches(deployment.spec.selector.matchLabels, other.spec.template.metadata.labels))).toHaveLength(1);
    }
  });

  it("probe /health for liveness and /ready for readiness on the port the service listens on", () => {
    for (const deployment of deployments(objects)) {
      const container = kombifyContainer(deployment);
      const port = Number(container.env?.find((variable) => variable.name === "PORT")?.value);
      const expected = SUBGRAPHS.find((subgraph) => subgraph.name === deployment.metadata.name)?.defaultPort ?? 4000;
      expect(port, `${deployment.metadata.name}: PORT`).toBe(expected);
      expect(containerPort(container, port), `${deployment.metadata.name}: declares containerPort ${port}`).toBe(port);
      for (const [probe, path] of [["livenessProbe", "/health"], ["readinessProbe", "/ready"], ["startupProbe", "/health"]] as const) {
        expect(container[probe]?.httpGet?.path, `${deployment.metadata.name}: ${probe}`).toBe(path);
        expect(containerPort(container, container[probe]!.httpGet!.port), `${deployment.metadata.name}: ${probe} port`).toBe(port);
      }
      for (const sidecar of deployment.spec.template.spec.containers.filter((candidate) => !isKombify(candidate))) {
        expect(sidecar.livenessProbe ?? sidecar.readinessProbe, `${deployment.metadata.name}/${sidecar.name}: a probe`).toBeDefined();
      }
    }
  });

  it("request CPU and memory for every container, and limit memory", () => {
    for (const deployment of deployments(objects)) {
      for (const container of deployment.spec.template.spec.containers) {
        const where = `${deployment.metadata.name}/${container.name}`;
        expect(container.resources?.requests?.cpu, `${where}: cpu request`).toBeDefined();
        expect(container.resources?.requests?.memory, `${where}: memory request`).toBeDefined();
        expect(container.resources?.limits?.memory, `${where}: memory limit`).toBeDefined();
      }
    }
  });

  it("run the services non-root, without privileges or capabilities, on a read-only root filesystem with a writable /tmp", () => {
    for (const deployment of deployments(objects)) {
      const pod = deployment.spec.template.spec;
      const name = deployment.metadata.name;
      expect(pod.securityContext?.runAsNonRoot, `${name}: runAsNonRoot`).toBe(true);
      // The image's USER is the name "node": the kubelet can verify runAsNonRoot only against a numeric user.
      expect(pod.securityContext?.runAsUser, `${name}: numeric non-root user`).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type, `${name}: seccomp`).toBe("RuntimeDefault");
      expect(pod.hostNetwork || pod.hostPID || pod.hostIPC, `${name}: host namespaces`).toBeFalsy();
      expect(pod.automountServiceAccountToken, `${name}: no API token (nothing here calls the Kubernetes API)`).toBe(false);
      // Service links would add variables such as STACKKIT_PORT=tcp://… to every container.
      expect(pod.enableServiceLinks, `${name}: enableServiceLinks`).toBe(false);
      for (const volume of pod.volumes ?? []) {
        expect(Object.keys(volume).filter((key) => key !== "name"), `${name}: volume ${volume.name}`).toEqual(["emptyDir"]);
      }
      const container = kombifyContainer(deployment);
      const context = container.securityContext ?? {};
      expect(context.privileged ?? false, `${name}: privileged`).toBe(false);
      expect(context.allowPrivilegeEscalation, `${name}: allowPrivilegeEscalation`).toBe(false);
      expect(context.capabilities?.drop, `${name}: capabilities`).toEqual(["ALL"]);
      expect(context.capabilities?.add, `${name}: added capabilities`).toBeUndefined();
      expect(context.runAsNonRoot ?? true, `${name}: container runAsNonRoot`).toBe(true);
      expect(context.runAsUser ?? 1, `${name}: container user`).toBeGreaterThan(0);
      expect(context.readOnlyRootFilesystem, `${name}: readOnlyRootFilesystem`).toBe(true);
      // tsx keeps its compile cache in the temporary directory.
      const tmp = container.volumeMounts?.find((mount) => mount.mountPath === "/tmp");
      expect(tmp && pod.volumes?.find((volume) => volume.name === tmp.name)?.emptyDir, `${name}: an emptyDir on /tmp`).toBeDefined();
      // The only container that is not ours: the docker-in-docker sidecar, and only where that component is on.
      for (const other of pod.containers.filter((candidate) => !isKombify(candidate))) {
        expect(`${name}/${other.name}`).toBe("simulation/docker");
        expect(other.image).toMatch(/^docker:\d+(\.\d+)*-dind$/);
      }
    }
  });

  it("give every Deployment a Service whose selector picks it, and every Service a port its pods listen on", () => {
    const services = ofKind<ServiceObject>(objects, "Service");
    for (const deployment of deployments(objects)) {
      const port = Number(kombifyContainer(deployment).env?.find((variable) => variable.name === "PORT")?.value);
      const service = services.find((candidate) => candidate.metadata.name === deployment.metadata.name);
      expect(service, `Service ${deployment.metadata.name}`).toBeDefined();
      expect(destination(objects, deployment, service!.metadata.name, port)).toBe(`${deployment.metadata.name}/${deployment.metadata.name}:${port}`);
    }
    for (const service of services) {
      for (const { port } of service.spec.ports) {
        // Throws when the selector picks no Deployment or several, or the port leads nowhere.
        expect(destination(objects, deployments(objects)[0]!, service.metadata.name, port)).toBeTruthy();
      }
    }
  });

  it("scale the gateway with a CPU HorizontalPodAutoscaler and protect it with a PodDisruptionBudget", () => {
    const gateway = deployments(objects).find((deployment) => deployment.metadata.name === "gateway")!;
    expect(gateway.spec.replicas, "the autoscaler owns the gateway's replica count").toBeUndefined();
    const autoscalers = ofKind<K8sObject & { spec: Record<string, any> }>(objects, "HorizontalPodAutoscaler");
    expect(autoscalers).toHaveLength(1);
    const hpa = autoscalers[0]!;
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "gateway" });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics).toContainEqual({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: expect.any(Number) } } });
    // Utilization is a share of the CPU request.
    expect(kombifyContainer(gateway).resources?.requests?.cpu).toBeDefined();

    const budgets = ofKind<K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; minAvailable?: number; maxUnavailable?: number } }>(objects, "PodDisruptionBudget");
    for (const budget of budgets) {
      expect(selected(objects, budget.spec.selector.matchLabels).map((deployment) => deployment.metadata.name), `PDB ${budget.metadata.name}`).toEqual([budget.metadata.name]);
    }
    const gatewayBudget = budgets.find((budget) => budget.metadata.name === "gateway");
    expect(gatewayBudget, "the gateway's PodDisruptionBudget").toBeDefined();
    expect(matches(gatewayBudget!.spec.selector.matchLabels, gateway.spec.template.metadata.labels)).toBe(true);
    // It must still let a drain evict one gateway pod at the autoscaler's minimum.
    expect(gatewayBudget!.spec.minAvailable ?? 0).toBeLessThan(hpa.spec.minReplicas);

    const simulation = deployments(objects).find((deployment) => deployment.metadata.name === "simulation")!;
    expect(simulation.spec.replicas, "one simulation service per Docker engine").toBe(1);
    expect(simulation.spec.strategy?.type, "never two simulation pods at once").toBe("Recreate");
  });

  it("expose the gateway's metrics listener beside its public port, on every interface, for Prometheus", () => {
    const gateway = deployments(objects).find((deployment) => deployment.metadata.name === "gateway")!;
    const container = kombifyContainer(gateway);
    const configMap = objects.find((object) => object.kind === "ConfigMap" && object.metadata.name === "kombify-gateway") as K8sObject & { data: Record<string, string> };
    expect(configMap.data.METRICS_HOST).toBe("0.0.0.0");
    const metricsPort = Number(configMap.data.METRICS_PORT);
    expect(containerPort(container, "metrics")).toBe(metricsPort);
    expect(gateway.spec.template.metadata.annotations?.["prometheus.io/port"]).toBe(String(metricsPort));
    expect(destination(objects, gateway, "gateway", metricsPort)).toBe(`gateway/gateway:${metricsPort}`);
  });
});

describe.each(Object.entries(PRODUCTION_BUILDS))("the production overlay: %s", (label, objects) => {
  it("sets every variable each service requires in production, which its own configuration parser then accepts", () => {
    const problems: string[] = [];
    for (const deployment of deployments(objects)) {
      const name = deployment.metadata.name;
      const { env } = resolveEnv(objects, kombifyContainer(deployment), true);
      for (const variable of REQUIRED[name]!) if (!env[variable]) problems.push(`${name}: ${variable} is not set`);
      if (env.NODE_ENV !== "production") problems.push(`${name}: NODE_ENV=${env.NODE_ENV}`);
      if (env.HOST !== "0.0.0.0") problems.push(`${name}: HOST=${env.HOST} (the Service reaches the pod from outside)`);
      const { error } = parseRecordingReads(name, env);
      if (error) problems.push(`${name}: ${error instanceof ConfigError ? error.problems.join("; ") : String(error)}`);
    }
    expect(problems).toEqual([]);
  });

  it("sets no variable that the service receiving it does not read (a misspelt name would silently fall back to a default)", () => {
    const readBy = new Map<string, Set<string>>();
    const unread: string[] = [];
    for (const deployment of deployments(objects)) {
      const name = deployment.metadata.name;
      const { env, origin } = resolveEnv(objects, kombifyContainer(deployment), true);
      const { read } = parseRecordingReads(name, env);
      for (const variable of Object.keys(env)) {
        if (variable === "SERVICE") continue; // docker/Dockerfile's entry point reads it
        const from = origin[variable]!;
        // A ConfigMap handed over whole (envFrom) may serve several services: each key must be read by one of them.
        if (from.startsWith("ConfigMap/") && !from.includes(".")) {
          const readers = readBy.get(`${from}.${variable}`) ?? new Set<string>();
          if (read.has(variable)) readers.add(name);
          readBy.set(`${from}.${variable}`, readers);
        } else if (!read.has(variable)) unread.push(`${name}: ${variable} (${from})`);
      }
    }
    for (const [key, readers] of readBy) if (readers.size === 0) unread.push(`${key}: read by none of the services given it`);
    expect(unread).toEqual([]);
  });

  it("runs one gateway worker per pod, so that the autoscaler's pods and their CPU requests are the unit of scale", () => {
    const gateway = deployments(objects).find((deployment) => deployment.metadata.name === "gateway")!;
    const { env } = resolveEnv(objects, kombifyContainer(gateway), true);
    expect(parseGatewayConfig(env).workers).toBe(1);
  });

  it("points the gateway at each subgraph's Service, in-cluster", () => {
    const gateway = deployments(objects).find((deployment) => deployment.metadata.name === "gateway")!;
    const { env } = resolveEnv(objects, kombifyContainer(gateway), true);
    for (const { name, defaultPort } of SUBGRAPHS) {
      const url = new URL(env[subgraphUrlVariable(name)]!);
      expect(url.pathname).toBe("/graphql");
      expect(destination(objects, gateway, url.hostname, Number(url.port))).toBe(`${name}/${name}:${defaultPort}`);
    }
  });

  it("gives the stack and simulation subgraphs the same Docker engine", () => {
    const engineOf = (name: string) => {
      const deployment = deployments(objects).find((candidate) => candidate.metadata.name === name)!;
      const url = new URL(resolveEnv(objects, kombifyContainer(deployment), true).env.DOCKER_HOST!.replace(/^tcp:/, "http:"));
      expect(url.protocol, `${name}: DOCKER_HOST over TCP, never the node's socket`).toBe("http:");
      return destination(objects, deployment, url.hostname, Number(url.port));
    };
    const engine = engineOf("simulation");
    expect(engineOf("stack")).toBe(engine);
    expect(engine).toBe(label === "production" ? "external:docker-engine.example.internal:2375" : "simulation/docker:2375");
  });

  it("keeps only placeholders in its Secrets, and a forgotten placeholder stops the service at start", () => {
    for (const secret of ofKind<K8sObject & { data?: unknown; stringData?: Record<string, string>; type?: string }>(objects, "Secret")) {
      expect(secret.data, `${secret.metadata.name}: no base64 data, only readable placeholders`).toBeUndefined();
      expect(secret.type).toBe("Opaque");
      for (const [key, value] of Object.entries(secret.stringData ?? {})) expect(`${secret.metadata.name}.${key}=${value}`).toBe(`${secret.metadata.name}.${key}=${PLACEHOLDER}`);
    }
    for (const deployment of deployments(objects)) {
      const name = deployment.metadata.name;
      const { env, fromSecrets } = resolveEnv(objects, kombifyContainer(deployment), false);
      const { error } = parseRecordingReads(name, env);
      expect(error, `${name} refuses to start on placeholders`).toBeInstanceOf(ConfigError);
      const named = (error as ConfigError).problems.join("\n");
      // A wrong PocketBase password is only refused by PocketBase, which /ready reports.
      for (const variable of [...fromSecrets].filter((candidate) => candidate !== "POCKETBASE_SUPERUSER_PASSWORD")) {
        expect(named, `${name}: the problems name ${variable}`).toContain(variable);
      }
    }
  });

  it("runs the image the overlay names, with a tag, in one namespace that enforces the matching Pod Security level", () => {
    const kustomization = parseYaml(readFileSync(join(PRODUCTION, "kustomization.yaml"), "utf8")) as { images: { name: string; newName: string; newTag: string }[] };
    const image = kustomization.images.find((entry) => entry.name === "kombify/supergraph")!;
    expect(image.newTag).not.toBe("latest");
    for (const deployment of deployments(objects)) expect(kombifyContainer(deployment).image).toBe(`${image.newName}:${image.newTag}`);
    const [namespace, ...others] = ofKind(objects, "Namespace");
    expect(others).toEqual([]);
    for (const object of objects.filter((candidate) => candidate.kind !== "Namespace")) expect(object.metadata.namespace, objectId(object)).toBe(namespace!.metadata.name);
    const privileged = deployments(objects).some((deployment) => deployment.spec.template.spec.containers.some((container) => container.securityContext?.privileged));
    expect(namespace!.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe(privileged ? "privileged" : "restricted");
    expect(privileged).toBe(label !== "production");
  });
});

describe("the docker-in-docker component", () => {
  const objects = BUILDS["production with docker-in-docker"];

  it("lets only the stack pods reach the sidecar's unauthenticated engine", () => {
    const policy = ofKind<K8sObject & { spec: { podSelector: { matchLabels: Record<string, string> }; ingress: { from?: unknown[]; ports: { port: number; endPort?: number }[] }[] } }>(objects, "NetworkPolicy");
    expect(policy).toHaveLength(1);
    expect(selected(objects, policy[0]!.spec.podSelector.matchLabels).map((deployment) => deployment.metadata.name)).toEqual(["simulation"]);
    const engineRules = policy[0]!.spec.ingress.filter((rule) => rule.ports.some((port) => port.port <= 2375 && 2375 <= (port.endPort ?? port.port)));
    const stack = deployments(objects).find((deployment) => deployment.metadata.name === "stack")!;
    expect(engineRules).toEqual([{ from: [{ podSelector: { matchLabels: stack.spec.selector.matchLabels } }], ports: [{ protocol: "TCP", port: 2375 }] }]);
  });

  it("is offered, commented out, by the production overlay", () => {
    expect(readFileSync(join(PRODUCTION, "kustomization.yaml"), "utf8")).toContain("#   - ../../components/docker-in-docker");
  });
});

describe("the test's own checks", () => {
  it("refuse a kind they have no schema for", () => {
    expect(() => validateAgainstSchema({ apiVersion: "networking.k8s.io/v1", kind: "Ingres", metadata: { name: "typo" } })).toThrow(/not a kind this test has a schema for/);
  });

  it("find a misspelt field that the schema validation lets through", () => {
    const deployment = structuredClone(deployments(BUILDS.production)[0]!);
    (deployment.spec.template.spec.containers[0]!.securityContext as Record<string, unknown>).readOnlyRootFileSystem = true;
    expect(() => validateAgainstSchema(deployment)).not.toThrow();
    expect(unknownFields([deployment], KINDS).join()).toContain("readOnlyRootFileSystem");
  });

  it("hold no key material anywhere under deploy/kubernetes", () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) => (statSync(join(dir, entry)).isDirectory() ? files(join(dir, entry)) : [join(dir, entry)]));
    for (const file of files(KUBERNETES)) {
      expect(readFileSync(file, "utf8"), file).not.toMatch(/-----BEGIN|\b(sk|rk)_(live|test)_[A-Za-z0-9]|\bwhsec_[A-Za-z0-9]{8,}|(postgres(ql)?|rediss?):\/\/[^\s:@<[]*:[^\s@<]+@/);
    }
  });
});
