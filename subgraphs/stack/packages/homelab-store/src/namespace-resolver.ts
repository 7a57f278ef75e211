import type PocketBase from "pocketbase";
import { errors } from "@kombify/service-core/errors";
import { assertValidSlug } from "@kombify/service-core/identifiers";
import { homelabMoving, PocketBaseConnections } from "./pocketbase-connections.js";

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

/** Which tenant a namespace belongs to (its plan is the tenant directory's business, not the namespace's). */
export interface NamespaceOwner {
  id: string;
  slug: string;
}

/**
 * The instance a tenant is placed on, as the tenant directory says, or null for no such tenant. `moving`: its
 * namespace is on its way to another instance (fenced off on this one), so nothing may be read or written now.
 */
export type InstanceLookup = (tenantId: string) => Promise<{ url: string; name: string; healthy: boolean; moving?: boolean } | null>;

/** A tenant's slice of a PocketBase instance: the only handle through which tenant homelab data is reached. */
export interface TenantNamespace {
  tenant: NamespaceOwner;
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
  private readonly instanceByTenant = new Map<string, { url: string; name: string; healthy: boolean; moving?: boolean; until: number }>();

  constructor(
    private readonly instanceOf: InstanceLookup,
    private readonly connections: PocketBaseConnections,
    /** How long a tenant's instance URL is trusted before the directory is asked again (instances move, rarely). */
    private readonly cacheMs = 15_000,
  ) {}

  async resolve(tenant: NamespaceOwner): Promise<TenantNamespace> {
    return this.at(await this.instanceUrlOf(tenant.id), tenant);
  }

  /** The namespace on an instance the caller already knows (the tenant subgraph, placing a tenant it has just created). */
  async at(instanceUrl: string, tenant: NamespaceOwner): Promise<TenantNamespace> {
    return {
      tenant: { id: tenant.id, slug: tenant.slug },
      instanceUrl,
      pb: await this.connections.forInstance(instanceUrl),
      collections: namespaceCollections(tenant.slug),
    };
  }

  /**
   * Drops what is remembered of the tenant's instance: the directory announced a change (a move began or ended),
   * so the next resolve asks it again. Subgraphs call this from the directory's change channel.
   */
  forget(tenantId: string): void {
    this.instanceByTenant.delete(tenantId);
  }

  private async instanceUrlOf(tenantId: string): Promise<string> {
    let instance = this.instanceByTenant.get(tenantId);
    if (!instance || instance.until <= Date.now()) {
      const found = await this.instanceOf(tenantId);
      if (!found) throw errors.notFound("Tenant", tenantId);
      instance = { ...found, until: Date.now() + this.cacheMs };
      // A move ends within seconds: its state is asked again on every resolve rather than remembered.
      if (!found.moving) this.instanceByTenant.set(tenantId, instance);
    }
    if (instance.moving) throw homelabMoving();
    // The tenant subgraph's health checks say the instance does not answer: say which, rather than wait on it.
    if (!instance.healthy) throw errors.unavailable(`Your homelab's instance ${instance.name} is not answering its health checks; retry in a while.`);
    return instance.url;
  }
}
