import type PocketBase from "pocketbase";
import { JobKind, JobStatus, StackStatus } from "./homelab-statuses.js";
import { callPocketBase, isNotFound } from "./pocketbase-connections.js";
import { FEATURE_FLAGS_COLLECTION, SSO_MAPPINGS_COLLECTION, type TenantNamespace } from "./namespace-resolver.js";

type FieldSpec = Record<string, unknown> & { name: string; type: string };

const autodate = (name: string, onUpdate: boolean): FieldSpec => ({ name, type: "autodate", onCreate: true, onUpdate });
const text = (name: string, required = false, max = 200): FieldSpec => ({ name, type: "text", required, max });

/**
 * Creates a tenant's collections (users_, stacks_, nodes_, jobs_), and the instance's platform collections,
 * if they are missing. Idempotent, so a half-finished provisioning is completed by running it again. API
 * rules let only the namespace's own users read it: a users_<a> token sees nothing of <b>.
 */
export async function provisionNamespace(namespace: TenantNamespace): Promise<void> {
  const { pb, collections: names, instanceUrl } = namespace;
  const ownUsersOnly = `@request.auth.collectionName = "${names.users}"`;

  await ensurePlatformCollections(pb, instanceUrl);
  await callPocketBase(instanceUrl, async () => {
    await ensureCollection(pb, {
      name: names.users,
      type: "auth",
      fields: [text("name"), text("zitadel_sub", true), autodate("created", false), autodate("updated", true)],
      indexes: [`CREATE UNIQUE INDEX idx_${names.users}_sub ON ${names.users} (zitadel_sub)`],
      listRule: "id = @request.auth.id",
      viewRule: "id = @request.auth.id",
      createRule: null,
      updateRule: null,
      deleteRule: null,
    });
    const stacks = await ensureCollection(pb, {
      name: names.stacks,
      type: "base",
      fields: [
        text("name", true, 100),
        { name: "status", type: "select", required: true, maxSelect: 1, values: Object.values(StackStatus) },
        text("stack_kit_id", true, 100),
        autodate("created", false),
        autodate("updated", true),
      ],
      indexes: [`CREATE UNIQUE INDEX idx_${names.stacks}_name ON ${names.stacks} (name)`],
      ...rules(ownUsersOnly),
    });
    await ensureCollection(pb, {
      name: names.nodes,
      type: "base",
      fields: [
        { name: "stack", type: "relation", required: true, maxSelect: 1, collectionId: stacks.id, cascadeDelete: true },
        text("hostname", true, 253),
        text("address", true, 253),
        text("role", true, 50),
        text("status", true, 50),
        autodate("created", false),
      ],
      ...rules(ownUsersOnly),
    });
    await ensureCollection(pb, {
      name: names.jobs,
      type: "base",
      fields: [
        { name: "stack", type: "relation", required: true, maxSelect: 1, collectionId: stacks.id, cascadeDelete: true },
        { name: "kind", type: "select", required: true, maxSelect: 1, values: Object.values(JobKind) },
        { name: "status", type: "select", required: true, maxSelect: 1, values: Object.values(JobStatus) },
        { name: "progress", type: "number", min: 0, max: 1 },
        text("message", false, 2000),
        { name: "logs", type: "json", maxSize: 2_000_000 },
        { name: "started_at", type: "date" },
        { name: "finished_at", type: "date" },
        autodate("created", false),
        autodate("updated", true),
      ],
      ...rules(ownUsersOnly),
    });
  });
}

/**
 * The platform collections every instance holds: `_feature_flags` (synced per tenant; each namespace reads only
 * its own rows) and `_sso_mappings` (Zitadel subject → tenant, superusers only).
 */
export async function ensurePlatformCollections(pb: PocketBase, instanceUrl: string): Promise<void> {
  await callPocketBase(instanceUrl, async () => {
    await ensureCollection(pb, {
      name: FEATURE_FLAGS_COLLECTION,
      type: "base",
      fields: [text("namespace", true, 100), text("key", true, 100), { name: "enabled", type: "bool" }],
      indexes: [`CREATE UNIQUE INDEX idx_feature_flags_ns_key ON ${FEATURE_FLAGS_COLLECTION} (namespace, key)`],
      listRule: "namespace = @request.auth.collectionName",
      viewRule: "namespace = @request.auth.collectionName",
      createRule: null,
      updateRule: null,
      deleteRule: null,
    });
    await ensureCollection(pb, {
      name: SSO_MAPPINGS_COLLECTION,
      type: "base",
      fields: [text("zitadel_sub", true, 200), text("tenant_id", true, 100), text("tenant_slug", true, 100), text("user_record", true, 50), autodate("created", false), autodate("updated", true)],
      indexes: [`CREATE UNIQUE INDEX idx_sso_mappings_sub_tenant ON ${SSO_MAPPINGS_COLLECTION} (zitadel_sub, tenant_id)`],
      listRule: null,
      viewRule: null,
      createRule: null,
      updateRule: null,
      deleteRule: null,
    });
  });
}

function rules(readRule: string) {
  return { listRule: readRule, viewRule: readRule, createRule: null, updateRule: null, deleteRule: null };
}

type CollectionSpec = Record<string, unknown> & { name: string; fields: FieldSpec[] };

/**
 * Creates the collection, or completes an existing one (adopted legacy collections, older namespaces) with
 * the fields it lacks and the given API rules.
 */
async function ensureCollection(pb: PocketBase, spec: CollectionSpec): Promise<{ id: string }> {
  try {
    const existing = await pb.collections.getOne(spec.name);
    const present = new Set((existing.fields as { name: string }[]).map((field) => field.name));
    const missing = spec.fields.filter((field) => !present.has(field.name)).map((field) => ({ ...field, required: false }));
    const { fields: _fields, indexes: _indexes, type: _type, ...rules } = spec;
    return await pb.collections.update(existing.id, { ...rules, fields: [...existing.fields, ...missing] });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    return await pb.collections.create(spec);
  } catch (error) {
    // A concurrent provisioning may have created it between our read and our write.
    try {
      return await pb.collections.getOne(spec.name);
    } catch {
      throw error;
    }
  }
}
