import type { GraphQLResolveInfo } from "graphql";
import { Directive, Arg, Authorized, Ctx, ID, Info, Mutation, Query, Resolver } from "type-graphql";
import { errors } from "@kombify/service-core/errors";
import { PlanTierEnum } from "@kombify/plan-catalog/graphql";
import { requireTenant, type PlanTier, type RequestContext } from "@kombify/service-core/auth";
import { assertPlanCovers } from "@kombify/plan-catalog";
import type { StackKitCatalog } from "@kombify/stackkit-catalog";
import type { DownloadLinks } from "../download/download-links.js";
import { hintCatalogCaching } from "./catalog-cache-hint.js";
import { toStackKit } from "./stackkit.mapper.js";
import { StackKit, StackKitDownload } from "./stackkit.type.js";

@Resolver(() => StackKit)
export class StackKitResolver {
  constructor(
    private readonly catalog: StackKitCatalog,
    private readonly links: DownloadLinks,
  ) {}

  @Directive("@listSize(assumedSize: 20)")
  @Query(() => [StackKit], { description: "Public: the catalog is readable without a token." })
  stackKits(
    @Ctx() context: RequestContext,
    @Info() info: GraphQLResolveInfo,
    @Arg("tier", () => PlanTierEnum, { nullable: true }) tier?: PlanTier | null,
  ): StackKit[] {
    hintCatalogCaching(info);
    return this.catalog
      .all()
      .filter((kit) => !tier || kit.tier === tier)
      .map((kit) => toStackKit(kit, context.caller));
  }

  @Query(() => StackKit, { nullable: true })
  stackKit(@Ctx() context: RequestContext, @Info() info: GraphQLResolveInfo, @Arg("id", () => ID) id: string): StackKit | null {
    hintCatalogCaching(info);
    const kit = this.catalog.find(id);
    return kit ? toStackKit(kit, context.caller) : null;
  }

  @Authorized()
  @Mutation(() => StackKitDownload, { description: "PLAN_REQUIRED when the caller's plan is below the kit's tier." })
  requestStackKitDownload(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): StackKitDownload {
    const tenant = requireTenant(context);
    const kit = this.catalog.find(id);
    if (!kit) throw errors.notFound("StackKit", id);
    assertPlanCovers(tenant.plan, kit.tier, kit.name);
    const link = this.links.create(kit.id, kit.version);
    return { url: link.url, expiresAt: link.expiresAt, sha256: kit.sha256 };
  }
}
