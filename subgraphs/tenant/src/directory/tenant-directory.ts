import { randomBytes } from "node:crypto";
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { assertValidSlug, isUuid, slugFromName } from "@kombify/service-core/identifiers";
import { errors } from "@kombify/service-core/errors";
import { isUniqueViolation, type Db } from "@kombify/service-core/database";
import { provisionNamespace, type NamespaceResolver } from "@kombify/homelab-store";
import { stackInstances, tenants, type TenantRow } from "../db/schema.js";
import { placeable, tenantCount } from "./instance-directory.js";

export interface NewTenant {
  name: string;
  slug: string;
  zitadelOrgId: string;
  /** Place the tenant on this instance (its data is already there) instead of the one with most room. */
  instanceId?: string;
}

/** The refusal when no instance could take the tenant: tenant creation waits for growth on this one alone. */
export const NO_INSTANCE_HAS_ROOM = "No healthy KombiStack instance has room for another tenant.";

type Transaction = Parameters<Parameters<Db["transaction"]>[0]>[0];

/**
 * Tenant records in PostgreSQL and their PocketBase namespaces, created together in one transaction:
 * if the namespace cannot be made, no tenant row remains. Creation for one organisation is serialised
 * by an advisory lock, so concurrent first launches make exactly one tenant.
 */
export class TenantDirectory {
  constructor(
    private readonly db: Db,
    private readonly namespaces: NamespaceResolver,
  ) {}

  async byId(id: string): Promise<TenantRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.select().from(tenants).where(eq(tenants.id, id));
    return row ?? null;
  }

  async byOrganisation(orgId: string): Promise<TenantRow | null> {
    const [row] = await this.db.select().from(tenants).where(eq(tenants.zitadelOrgId, orgId));
    return row ?? null;
  }

  /**
   * Creates the organisation's tenant with exactly this slug; CONFLICT if it has one or the slug is taken.
   * `admit` runs under the organisation's lock just before a tenant is made (rate limits count creations, not attempts).
   */
  async create(input: NewTenant, admit?: () => Promise<void>): Promise<TenantRow> {
    const slugTakenError = () => errors.conflict(`The slug "${input.slug}" is taken; choose another.`);
    try {
      return await this.forOrganisation(input.zitadelOrgId, async (tx, existing) => {
        if (existing) throw errors.conflict("Your organisation already has a tenant.");
        if (await slugTaken(tx, input.slug)) throw slugTakenError();
        await admit?.();
        return this.insertAndProvision(tx, input);
      });
    } catch (error) {
      // Two organisations racing for one slug: the check above runs under each organisation's own lock, so
      // the unique index decides, and the loser is told as if the check had seen it.
      if (isUniqueViolation(error, "tenants_slug_unique")) throw slugTakenError();
      throw error;
    }
  }

  /** The organisation's tenant, created (named `name`, slug derived from it) if it has none yet. */
  async ensureForOrganisation(orgId: string, name: string, admit?: () => Promise<void>): Promise<{ tenant: TenantRow; created: boolean }> {
    // Organisations of one name racing for its slug: the loser of the unique index tries again with a suffix.
    for (let attempt = 0; ; attempt++) {
      let created = false;
      try {
        const tenant = await this.forOrganisation(orgId, async (tx, existing) => {
          if (existing) return existing;
          const base = slugFromName(name).slice(0, 30).replace(/-+$/, "");
          let slug = isAcceptableSlug(base) ? base : `lab-${randomBytes(3).toString("hex")}`;
          while (await slugTaken(tx, slug)) slug = `${base.slice(0, 30)}-${randomBytes(3).toString("hex")}`;
          await admit?.();
          created = true;
          return this.insertAndProvision(tx, { name, slug, zitadelOrgId: orgId });
        });
        return { tenant, created };
      } catch (error) {
        if (attempt >= 3 || !isUniqueViolation(error, "tenants_slug_unique")) throw error;
      }
    }
  }

  private forOrganisation(orgId: string, work: (tx: Transaction, existing: TenantRow | null) => Promise<TenantRow>): Promise<TenantRow> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`tenant-org:${orgId}`}))`);
      const [existing] = await tx.select().from(tenants).where(eq(tenants.zitadelOrgId, orgId));
      return work(tx, existing ?? null);
    });
  }

  /** Places the tenant on the healthy instance with the most room (rows locked, so none is overfilled). */
  private async insertAndProvision(tx: Transaction, input: NewTenant): Promise<TenantRow> {
    const eligible = input.instanceId ? eq(stackInstances.id, input.instanceId) : and(eq(stackInstances.healthy, true), isNull(stackInstances.retiredAt), placeable);
    await tx.select({ id: stackInstances.id }).from(stackInstances).where(eligible).orderBy(asc(stackInstances.name)).for("update");
    // Counted only now that the rows are ours: a count taken in the locking statement itself is of the snapshot
    // before the wait, blind to the tenants the transactions ahead of us placed (concurrent creates overfilled).
    const candidates = await tx
      .select({ id: stackInstances.id, pocketbaseUrl: stackInstances.pocketbaseUrl, maxTenants: stackInstances.maxTenants, tenantCount })
      .from(stackInstances)
      .where(eligible)
      .orderBy(asc(stackInstances.name));
    const instance: { id: string; pocketbaseUrl: string } | undefined = input.instanceId
      ? candidates[0]
      : candidates
          .filter((candidate) => candidate.tenantCount < candidate.maxTenants)
          .sort((a, b) => a.tenantCount / a.maxTenants - b.tenantCount / b.maxTenants)[0];
    if (!instance) throw errors.unavailable(NO_INSTANCE_HAS_ROOM);
    const [row] = await tx.insert(tenants).values({ ...input, instanceId: instance.id }).returning();
    const tenant = row!;
    await provisionNamespace(await this.namespaces.at(instance.pocketbaseUrl, tenant));
    return tenant;
  }
}

async function slugTaken(tx: Transaction, slug: string): Promise<boolean> {
  const [row] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug));
  return Boolean(row);
}

function isAcceptableSlug(slug: string): boolean {
  try {
    assertValidSlug(slug);
    return true;
  } catch {
    return false;
  }
}
