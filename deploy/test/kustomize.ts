import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

/**
 * The part of `kustomize build` that deploy/kubernetes uses, so that the test sees what `kubectl apply -k` would
 * send without kubectl: `resources` (files and kustomization folders), `components`, `patches` (strategic merge,
 * from a file, targets named by the patch itself), `namespace` and `images`. Anything else in a kustomization is
 * refused, so that a new feature gets taught here before the test can claim to have checked its output.
 */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  components?: string[];
  patches?: { path: string }[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
}

const SUPPORTED = new Set(["apiVersion", "kind", "resources", "components", "patches", "namespace", "images"]);
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "StorageClass"]);

/** Builds the kustomization in `dir`; `extraComponents` are added to its `components` as if listed there. */
export function kustomizeBuild(dir: string, extraComponents: string[] = []): K8sObject[] {
  const kustomization = readKustomization(dir, "Kustomization");
  return build(dir, { ...kustomization, components: [...(kustomization.components ?? []), ...extraComponents] });
}

export function objectId(object: K8sObject): string {
  return `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata.name}`;
}

function build(dir: string, kustomization: Kustomization): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const entry of kustomization.resources ?? []) {
    const path = resolve(dir, entry);
    const loaded = statSync(path).isDirectory() ? kustomizeBuild(path) : readObjects(path);
    for (const object of loaded) add(objects, object, path);
  }
  for (const entry of kustomization.components ?? []) {
    const componentDir = resolve(dir, entry);
    const component = readKustomization(componentDir, "Component");
    if (component.namespace || component.images || component.components) throw new Error(`${componentDir}: only resources and patches are supported in a component`);
    for (const resource of component.resources ?? []) {
      const path = resolve(componentDir, resource);
      for (const object of readObjects(path)) add(objects, object, path);
    }
    applyPatches(objects, componentDir, component.patches ?? []);
  }
  applyPatches(objects, dir, kustomization.patches ?? []);
  if (kustomization.namespace) {
    for (const object of objects) {
      if (object.kind === "Namespace") object.metadata.name = kustomization.namespace;
      else if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = kustomization.namespace;
    }
  }
  for (const image of kustomization.images ?? []) {
    for (const container of podContainers(objects)) {
      if (imageName(container.image) !== image.name) continue;
      const name = image.newName ?? image.name;
      const tag = image.digest ? `@${image.digest}` : image.newTag ? `:${image.newTag}` : imageTag(container.image);
      container.image = `${name}${tag}`;
    }
  }
  return objects;
}

function readKustomization(dir: string, kind: "Kustomization" | "Component"): Kustomization {
  const file = ["kustomization.yaml", "kustomization.yml", "Kustomization"].map((name) => join(dir, name)).find((path) => existsSync(path));
  if (!file) throw new Error(`${dir} has no kustomization.yaml`);
  const kustomization = readObjects(file)[0] as unknown as Kustomization;
  const unsupported = Object.keys(kustomization).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0) throw new Error(`${file}: ${unsupported.join(", ")} not supported by deploy/test/kustomize.ts: teach it first`);
  if ((kustomization.kind ?? "Kustomization") !== kind) throw new Error(`${file} is a ${kustomization.kind}, expected a ${kind}`);
  for (const patch of kustomization.patches ?? []) {
    if (Object.keys(patch).join() !== "path") throw new Error(`${file}: only patches with a path (strategic merge, target from the patch) are supported`);
  }
  return kustomization;
}

function readObjects(path: string): K8sObject[] {
  const documents = parseAllDocuments(readFileSync(path, "utf8"));
  const objects: K8sObject[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.map((error) => error.message).join("; ")}`);
    const value = document.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

function add(objects: K8sObject[], object: K8sObject, from: string): void {
  if (objects.some((existing) => objectId(existing) === objectId(object))) throw new Error(`${from}: ${objectId(object)} is already defined`);
  objects.push(object);
}

function applyPatches(objects: K8sObject[], dir: string, patches: { path: string }[]): void {
  for (const { path } of patches) {
    for (const patch of readObjects(resolve(dir, path))) {
      const targets = objects.filter(
        (object) =>
          object.kind === patch.kind &&
          object.metadata.name === patch.metadata.name &&
          (patch.metadata.namespace === undefined || object.metadata.namespace === patch.metadata.namespace),
      );
      if (targets.length !== 1) throw new Error(`${path}: the patch for ${objectId(patch)} matches ${targets.length} objects`);
      strategicMerge(targets[0]!, patch);
    }
  }
}

/** The list merge keys of the Kubernetes types we patch; other lists are replaced, as their patch strategy says. */
function mergeKeyOf(field: string, items: unknown[]): string | undefined {
  if (field === "containers" || field === "initContainers" || field === "env" || field === "volumes") return "name";
  if (field === "volumeMounts") return "mountPath";
  if (field === "ports") return items.every((item) => isObject(item) && "containerPort" in item) ? "containerPort" : "port";
  return undefined;
}

/** Strategic merge of `patch` into `target`: maps merge, null deletes, keyed lists merge by key, other lists are replaced. */
export function strategicMerge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (value === null) delete target[key];
    else if (isObject(value) && isObject(current)) strategicMerge(current, value);
    else if (Array.isArray(value) && Array.isArray(current) && mergeKeyOf(key, [...current, ...value])) {
      // As kustomize orders them: the patch's items (merged into their originals) first, then the other originals.
      const mergeKey = mergeKeyOf(key, [...current, ...value])!;
      const originals = current as Record<string, unknown>[];
      const patched = (value as Record<string, unknown>[]).map((item) => {
        const existing = originals.find((candidate) => candidate[mergeKey] === item[mergeKey]);
        if (!existing) return structuredClone(item);
        strategicMerge(existing, item);
        return existing;
      });
      target[key] = [...patched, ...originals.filter((original) => !patched.includes(original))];
    } else target[key] = structuredClone(value);
  }
}

interface Container {
  name: string;
  image: string;
  [field: string]: unknown;
}

function podContainers(objects: K8sObject[]): Container[] {
  return objects.flatMap((object) => {
    const spec = (object.spec as { template?: { spec?: { containers?: Container[]; initContainers?: Container[] } } } | undefined)?.template?.spec;
    return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  });
}

/** `registry:5000/a/b:tag@sha256:…` → `registry:5000/a/b`. */
export function imageName(image: string): string {
  const withoutDigest = image.split("@")[0]!;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

function imageTag(image: string): string {
  return image.slice(imageName(image).length);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const repositoryRoot = fileURLToPath(new URL("../../", import.meta.url));
