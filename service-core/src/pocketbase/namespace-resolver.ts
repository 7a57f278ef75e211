import { eq } from "drizzle-orm";
import type PocketBase from "pocketbase";
import type { TenantRef } from "../auth/caller.js";
import type { Db } from "../database/database.js";
import { stackInstances, tenants } from "../database/schema.js";
import { errors } from "../errors/app-error.js";
import { assertValidSlug } from "../tenancy/slug.js";
import { PocketBaseConnections } from "./pocketbase-connections.js";

export interface NamespaceCollections {
  users: string;
  stacks: string;
  nodes: string;
  jobs: string;
}

/** The platform-wide collection the tenant flags are synced into, readable per namespace. */
export const FEATURE_FLAGS_COLLECTION = "_feature_flags";
/** The platform-wide record of which Zitadel subject was given which namespace user (superusers only). */
export const SSO_MAPPINGS_COLLECTION = "_sso_mappings";

/** A tenant's slice of a PocketBase instance: the only handle through which tenant homelab data is reached. */
export interface TenantNamespace {
  tenant: TenantRef;
  instanceUrl: string;
  pb: PocketBase;
  collections: NamespaceCollections;
}

/** PocketBase collection names allow [A-Za-z0-9_]; slugs never contain '_', so '-' → '_' stays unambiguous. */
export function namespaceCollections(slug: string): NamespaceCollections {
  const suffix = assertValidSlugOrDefault(slug).replace(/-/g, "_");
  return {
    users: `users_${suffix}`,
    stacks: `stacks_${suffix}`,
    nodes: `nodes_${suffix}`,
    jobs: `jobs_${suffix}`,
  };
}

function assertValidSlugOrDefault(slug: string): string {
  return slug === "default" ? slug : assertValidSlug(slug, "tenant slug");
}

/**
 * Turns a verified tenant context into its namespace on the instance the tenant is assigned to.
 * No resolver builds a collection name itself: this is the one place.
 */
export class NamespaceResolver {
  private readonly instanceUrlByTenant = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly connections: PocketBaseConnections,
  ) {}

  /** `db` may be a transaction that has just created the tenant (not yet visible to other connections). */
  async resolve(tenant: TenantRef, db: Pick<Db, "select"> = this.db): Promise<TenantNamespace> {
    const instanceUrl = await this.instanceUrlOf(tenant.id, db);
    return {
      tenant,
      instanceUrl,
      pb: await this.connections.forInstance(instanceUrl),
      collections: namespaceCollections(tenant.slug),
    };
  }

  private async instanceUrlOf(tenantId: string, db: Pick<Db, "select">): Promise<string> {
    const cached = this.instanceUrlByTenant.get(tenantId);
    if (cached) return cached;
    const [row] = await db
      .select({ url: stackInstances.pocketbaseUrl })
      .from(tenants)
      .innerJoin(stackInstances, eq(tenants.instanceId, stackInstances.id))
      .where(eq(tenants.id, tenantId));
    if (!row) throw errors.notFound("Tenant", tenantId);
    this.instanceUrlByTenant.set(tenantId, row.url);
    return row.url;
  }
}
