import { Arg, Authorized, Ctx, Directive, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { assertValidSlug, slugFromName } from "@kombify/service-core/identifiers";
import { errors } from "@kombify/service-core/errors";
import { recordAudit } from "@kombify/service-core/audit";
import { requireUser, Role, type RequestContext } from "@kombify/service-core/auth";
import type { Db } from "@kombify/service-core/database";
import type { InstanceDirectory } from "../directory/instance-directory.js";
import type { TenantDirectory } from "../directory/tenant-directory.js";
import { mayReadTenant } from "../published/tenant-access.js";
import { FeatureFlag } from "../feature-flag/feature-flag.type.js";
import type { FeatureFlags } from "../feature-flag/feature-flags.js";
import { StackInstance } from "../instance/stack-instance.type.js";
import type { TenantCreation } from "./tenant-creation.js";
import { Tenant } from "./tenant.type.js";

const FLAG_KEY = /^[a-z][a-z0-9-]{1,63}$/;

@Resolver(() => Tenant)
export class TenantResolver {
  constructor(
    private readonly db: Db,
    private readonly tenants: TenantDirectory,
    private readonly instances: InstanceDirectory,
    private readonly flags: FeatureFlags,
    private readonly creation: TenantCreation,
  ) {}

  @Query(() => Tenant, { nullable: true, description: "The caller's tenant, from the verified token's organisation." })
  async myTenant(@Ctx() context: RequestContext): Promise<Tenant | null> {
    const caller = requireUser(context);
    return caller.tenant ? this.tenants.byId(caller.tenant.id) : null;
  }

  @Authorized()
  @Mutation(() => Tenant, {
    description: "Creates the tenant for the caller's organisation: picks a healthy instance with capacity, creates its namespace.",
  })
  async createTenant(
    @Ctx() context: RequestContext,
    @Arg("name", () => String) name: string,
    @Arg("slug", () => String, { nullable: true }) slug?: string | null,
  ): Promise<Tenant> {
    const caller = requireUser(context);
    if (!caller.orgId) throw errors.forbidden("Your token names no organisation, so no tenant can be created for it.");
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 100) throw errors.badInput("name", "must be 1 to 100 characters.");
    if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) throw errors.badInput("name", "must not contain control characters.");
    const chosenSlug = assertValidSlug(slug ?? slugFromName(trimmed));
    if (caller.tenant) throw errors.conflict("Your organisation already has a tenant.");
    const tenant = await this.creation.create({ name: trimmed, slug: chosenSlug, zitadelOrgId: caller.orgId }, clientAddressOf(context));
    await recordAudit(this.db, context, { action: "tenant.create", target: `tenant:${tenant.id}`, tenantId: tenant.id, details: { slug: tenant.slug } });
    await this.flags.syncToNamespace(tenant);
    return tenant;
  }

  /**
   * The organisation's tenant, created on its first homelab launch: the gateway calls this before it runs
   * `launchHomelab` for a caller whose organisation has none, so tenants are made only here, by their owner.
   * Not part of the public API (@inaccessible): named from the verified context alone, it takes no input.
   */
  @Authorized()
  @Directive("@inaccessible")
  @Mutation(() => Tenant, { description: "Gateway-only: the caller's organisation's tenant, created if it has none (first homelab launch)." })
  async enrolOrganisation(@Ctx() context: RequestContext): Promise<Tenant> {
    const caller = requireUser(context);
    if (!caller.orgId) throw errors.forbidden("Your token names no organisation, so there is no tenant to enrol.");
    const { tenant, created } = await this.creation.ensureForOrganisation(caller.orgId, caller.orgName ?? `${caller.name ?? "My"} homelab`, clientAddressOf(context));
    if (created) await recordAudit(this.db, context, { action: "tenant.create", target: `tenant:${tenant.id}`, tenantId: tenant.id, details: { slug: tenant.slug, via: "launchHomelab" } });
    // Every time, not only on creation: the gateway calls this only while its context knows no tenant, so a sync
    // that failed the first time is retried on the next launch.
    await this.flags.syncToNamespace(tenant);
    return tenant;
  }

  @Authorized(Role.PLATFORM_ADMIN)
  @Mutation(() => FeatureFlag, {
    description: "Platform admins only: a per-tenant override on top of the plan's flags; synced to the tenant's namespace.",
  })
  async setFeatureFlag(
    @Ctx() context: RequestContext,
    @Arg("tenantId", () => ID) tenantId: string,
    @Arg("key", () => String) key: string,
    @Arg("enabled", () => Boolean) enabled: boolean,
  ): Promise<FeatureFlag> {
    if (!FLAG_KEY.test(key)) throw errors.badInput("key", "must be 2 to 64 characters: lower-case letters, digits and '-'.");
    const tenant = await this.tenants.byId(tenantId);
    if (!tenant) throw errors.notFound("Tenant", tenantId);
    const flag = await this.flags.override(tenant, key, enabled);
    await recordAudit(this.db, context, { action: "feature-flag.set", target: `tenant:${tenant.id}`, tenantId: tenant.id, details: { key, enabled } });
    return flag;
  }

  @FieldResolver(() => StackInstance)
  async instance(@Root() tenant: Tenant): Promise<StackInstance> {
    const instance = await this.instances.get(tenant.instanceId);
    if (!instance) throw errors.notFound("StackInstance", tenant.instanceId);
    return instance;
  }

  @Directive("@listSize(assumedSize: 10)")
  @FieldResolver(() => [FeatureFlag])
  featureFlags(@Root() tenant: Tenant): Promise<FeatureFlag[]> {
    return this.flags.of(tenant.id);
  }

  /** Another subgraph's `Tenant { id }`: resolved only for the caller's own tenant (or a platform admin). */
  static reference(db: Db, tenants: TenantDirectory) {
    return {
      async __resolveReference(reference: Pick<Tenant, "id">, context: RequestContext): Promise<Tenant | null> {
        if (!(await mayReadTenant(db, context, reference.id))) return null;
        return tenants.byId(reference.id);
      },
    };
  }
}

/** The caller's client address as the gateway signed it into the context, when it did. */
function clientAddressOf(context: RequestContext): string | null {
  const address = (context as RequestContext & { clientAddress?: unknown }).clientAddress;
  return typeof address === "string" && address.length > 0 && address.length <= 64 ? address : null;
}
