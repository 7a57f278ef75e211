import { createHash, randomBytes } from "node:crypto";
import type PocketBase from "pocketbase";
import type { RecordModel } from "pocketbase";
import { callPocketBase, isNotFound } from "./pocketbase-connections.js";
import { FEATURE_FLAGS_COLLECTION, namespaceCollections, SSO_MAPPINGS_COLLECTION, type NamespaceCollections, type NamespaceOwner } from "./namespace-resolver.js";

/**
 * Moving a namespace between instances, as PocketBase sees it: the fence, the copy with ids intact, the checksums
 * that verify it, and the removal. Which instance is the tenant's stays the tenant directory's business; the
 * tenant subgraph's mover drives these steps and records how far it got.
 */

/** The tenant's own collections, parents before children (a node or job names its stack). */
const OWN_PARTS = ["users", "stacks", "nodes", "jobs"] as const satisfies readonly (keyof NamespaceCollections)[];
/** Every part a namespace is copied and verified by: its own collections, then its rows in the platform collections. */
const PARTS = [...OWN_PARTS, "featureFlags", "ssoMappings"] as const;
type Part = (typeof PARTS)[number];

/** What PocketBase sets itself (autodate fields cannot be written through its API) or answers about a record. */
const NOT_COPIED = new Set(["collectionId", "collectionName", "expand", "created", "updated"]);

/** A namespace's records where they are read or written: on one instance, under live or fenced collection names. */
export interface RecordSource {
  pb: PocketBase;
  instanceUrl: string;
  tenant: NamespaceOwner;
  /** Read from the fenced names (the instance being left) or the live ones (the instance arrived at). */
  fenced: boolean;
}

/** Every record of a namespace by part, oldest first, each with the checksum of what a copy carries. */
export interface NamespaceSnapshot {
  parts: Map<Part, { record: RecordModel; checksum: string }[]>;
  count: number;
  /** One checksum over every record of every part. */
  checksum: string;
}

/** The names the namespace's collections carry on the instance it is leaving: no writer knows them. */
function fencedName(name: string): string {
  return `moving_${name}`;
}

function collectionNames(source: RecordSource): NamespaceCollections {
  const live = namespaceCollections(source.tenant.slug);
  if (!source.fenced) return live;
  return { users: fencedName(live.users), stacks: fencedName(live.stacks), nodes: fencedName(live.nodes), jobs: fencedName(live.jobs) };
}

async function collectionOrNull(pb: PocketBase, name: string): Promise<{ id: string } | null> {
  try {
    return await pb.collections.getOne(name);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * Renames the namespace's collections out of every writer's reach, on the instance it is leaving. PocketBase
 * applies a rename in its one write transaction: a write that committed before it is in the renamed collection
 * (and so in the copy, read after this returns); any later one, by whatever process still believes the tenant
 * lives here, finds no collection and is answered UNAVAILABLE. Idempotent: a fence already up is left as it is.
 */
export async function fenceNamespace(pb: PocketBase, instanceUrl: string, tenant: NamespaceOwner): Promise<void> {
  await renameAll(pb, instanceUrl, tenant, "fence");
}

/** Takes the fence down again (a move rolled back): the namespace is live on this instance as before. Idempotent. */
export async function unfenceNamespace(pb: PocketBase, instanceUrl: string, tenant: NamespaceOwner): Promise<void> {
  await renameAll(pb, instanceUrl, tenant, "unfence");
}

async function renameAll(pb: PocketBase, instanceUrl: string, tenant: NamespaceOwner, direction: "fence" | "unfence"): Promise<void> {
  const live = namespaceCollections(tenant.slug);
  await callPocketBase(instanceUrl, async () => {
    // Children first when fencing and parents first when lifting it: never a moment a job is writable while its stack is not.
    const order = direction === "fence" ? [...OWN_PARTS].reverse() : OWN_PARTS;
    for (const part of order) {
      const [from, to] = direction === "fence" ? [live[part], fencedName(live[part])] : [fencedName(live[part]), live[part]];
      const current = await collectionOrNull(pb, from);
      const already = await collectionOrNull(pb, to);
      if (current && already) throw new Error(`Both ${from} and ${to} exist on ${instanceUrl}: a namespace was provisioned again mid-move.`);
      if (current) await pb.collections.update(current.id, { name: to });
      else if (!already) throw new Error(`Namespace collection ${from} is missing on ${instanceUrl}.`);
    }
  });
}

/** Deletes the namespace from an instance: its collections (live or fenced) and its rows in the platform collections. Idempotent. */
export async function removeNamespace(pb: PocketBase, instanceUrl: string, tenant: NamespaceOwner): Promise<void> {
  const live = namespaceCollections(tenant.slug);
  await callPocketBase(instanceUrl, async () => {
    for (const part of [...OWN_PARTS].reverse()) {
      for (const name of [live[part], fencedName(live[part])]) {
        const collection = await collectionOrNull(pb, name);
        if (collection) await pb.collections.delete(collection.id);
      }
    }
    for (const [collection, filter] of platformRowFilters(pb, tenant)) {
      const rows = await pb.collection(collection).getFullList({ filter, fields: "id", batch: 1000 }).catch((error) => (isNotFound(error) ? [] : Promise.reject(error)));
      for (const row of rows) await pb.collection(collection).delete(row.id).catch((error) => (isNotFound(error) ? undefined : Promise.reject(error)));
    }
  });
}

/** The tenant's rows in the platform collections: its flags (by its users collection's live name) and its SSO mappings. */
function platformRowFilters(pb: PocketBase, tenant: NamespaceOwner): [string, string][] {
  return [
    [FEATURE_FLAGS_COLLECTION, pb.filter("namespace = {:ns}", { ns: namespaceCollections(tenant.slug).users })],
    [SSO_MAPPINGS_COLLECTION, pb.filter("tenant_id = {:tenant}", { tenant: tenant.id })],
  ];
}

function locate(source: RecordSource, part: Part): { collection: string; filter?: string; sort: string } {
  const [flags, sso] = platformRowFilters(source.pb, source.tenant);
  if (part === "featureFlags") return { collection: flags![0], filter: flags![1], sort: "id" };
  if (part === "ssoMappings") return { collection: sso![0], filter: sso![1], sort: "created,id" };
  return { collection: collectionNames(source)[part], sort: "created,id" };
}

/** What a copy carries of a record: every field but those PocketBase sets itself, keys in a fixed order. */
function copiedFields(record: RecordModel): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(record)
      .filter((key) => !NOT_COPIED.has(key))
      .sort()
      .map((key) => [key, record[key]]),
  );
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Reads every record of the namespace (oldest first) with its checksum. */
export async function namespaceRecords(source: RecordSource): Promise<NamespaceSnapshot> {
  const parts = new Map<Part, { record: RecordModel; checksum: string }[]>();
  const summary = createHash("sha256");
  let count = 0;
  await callPocketBase(source.instanceUrl, async () => {
    for (const part of PARTS) {
      const { collection, filter, sort } = locate(source, part);
      const records = await source.pb.collection(collection).getFullList({ sort, batch: 1000, ...(filter ? { filter } : {}) });
      const entries = records.map((record) => ({ record, checksum: sha256(canonical(copiedFields(record))) }));
      parts.set(part, entries);
      count += entries.length;
      summary.update(`${part}:${entries.length}:`);
      for (const entry of [...entries].sort((a, b) => a.record.id.localeCompare(b.record.id))) summary.update(entry.checksum);
    }
  });
  return { parts, count, checksum: summary.digest("hex") };
}

/**
 * Makes the target's copy of the namespace equal to the source's, record by record with ids intact (so relations
 * hold): what the target lacks is created in the source's order (oldest first, so `created` keeps their order),
 * what differs is updated, what the source no longer has is deleted. Running it again after an interruption
 * finishes the job without a duplicate. `progress` hears the records written so far.
 */
export async function syncNamespaceRecords(
  from: RecordSource,
  to: RecordSource,
  progress: (written: number) => Promise<void> = async () => {},
): Promise<number> {
  const source = await namespaceRecords(from);
  const target = await namespaceRecords(to);
  let written = 0;
  await callPocketBase(to.instanceUrl, async () => {
    for (const part of [...PARTS].reverse()) {
      const wanted = new Set(source.parts.get(part)!.map((entry) => entry.record.id));
      const { collection } = locate(to, part);
      for (const entry of target.parts.get(part)!) {
        if (!wanted.has(entry.record.id)) await to.pb.collection(collection).delete(entry.record.id).catch((error) => (isNotFound(error) ? undefined : Promise.reject(error)));
      }
    }
    for (const part of PARTS) {
      const { collection } = locate(to, part);
      const present = new Map(target.parts.get(part)!.map((entry) => [entry.record.id, entry.checksum]));
      for (const { record, checksum } of source.parts.get(part)!) {
        const had = present.get(record.id);
        if (had === checksum) continue;
        const fields = copiedFields(record);
        if (had === undefined) {
          // Namespace users sign in only through impersonation: the password they get here is never used or shown.
          const password = part === "users" ? randomBytes(24).toString("base64url") : undefined;
          await to.pb.collection(collection).create(password ? { ...fields, password, passwordConfirm: password } : fields);
        } else {
          const { id: _id, ...changes } = fields;
          await to.pb.collection(collection).update(record.id, changes);
        }
        written += 1;
        if (written % 100 === 0) await progress(written);
      }
    }
  });
  await progress(written);
  return written;
}
