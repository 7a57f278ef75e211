import { randomBytes } from "node:crypto";
import { ClientResponseError, type RecordModel } from "pocketbase";
import { callPocketBase, isHomelabMoving, SSO_MAPPINGS_COLLECTION, type NamespaceResolver, type TenantNamespace } from "@kombify/homelab-store";
import { errors } from "@kombify/service-core/errors";
import { recordAudit } from "@kombify/service-core/audit";
import { requireUser, type RequestContext, type SignedInCaller } from "@kombify/service-core/auth";
import type { Db } from "@kombify/service-core/database";
import type { UserCache } from "../user/user-cache.js";
import type { HomelabLaunch } from "../user/user.type.js";

export interface LaunchSettings {
  /** Lifetime of the PocketBase token handed out (impersonation tokens cannot be renewed). */
  tokenTtlSeconds: number;
  /** Where the homelab lives; `{instanceUrl}` and `{slug}` are filled in. */
  redirectUrlTemplate: string;
}

/**
 * The SSO exchange: from a verified Zitadel caller to a PocketBase session in its tenant's namespace.
 * Finds or creates the user in users_<slug> by Zitadel subject, records the mapping, and returns a short-lived
 * token made by superuser impersonation (no password ever leaves us). The tenant itself is the tenant
 * subgraph's: on an organisation's first launch the gateway has it created (the tenant subgraph's gateway-only
 * `enrolOrganisation`) before this runs, so the verified context already names it, with its plan.
 */
export class HomelabLauncher {
  constructor(
    private readonly db: Db,
    private readonly namespaces: NamespaceResolver,
    private readonly users: UserCache,
    private readonly settings: LaunchSettings,
  ) {}

  async launch(context: RequestContext): Promise<HomelabLaunch> {
    const caller = requireUser(context);
    if (!caller.orgId) throw errors.forbidden("Your token names no organisation, so there is no homelab to launch.");
    const tenant = caller.tenant;
    if (!tenant) throw errors.unavailable("Your organisation's tenant could not be created for this launch; retry in a moment.");
    const namespace = await this.namespaces.resolve(tenant);
    const record = await this.findOrCreateNamespaceUser(namespace, caller);
    const createdMapping = await this.recordMapping(namespace, caller, record);
    // Each launch impersonates anew on the instance the directory names now: a token made before a move (on the
    // old instance, by its keys) is simply replaced by this one.
    const { token } = await callPocketBase(namespace.instanceUrl, () =>
      namespace.pb.collection(namespace.collections.users).impersonate(record.id, this.settings.tokenTtlSeconds).then((client) => ({ token: client.authStore.token })),
    ).catch(async (error) => {
      // A move fenced the namespace off after we read it: our mapping may have landed on the old instance after
      // the copy, so it is taken back (the copy has it if it was early enough; the retry writes it otherwise).
      if (createdMapping && isHomelabMoving(error)) {
        await namespace.pb.collection(SSO_MAPPINGS_COLLECTION).delete(createdMapping).catch(() => {});
      }
      throw error;
    });
    const user = await this.users.remember(caller);
    await recordAudit(this.db, context, { action: "homelab.launch", target: `user:${caller.userId}`, tenantId: tenant.id, details: { namespaceUser: record.id } });
    return {
      token,
      redirectUrl: this.settings.redirectUrlTemplate.replaceAll("{instanceUrl}", namespace.instanceUrl.replace(/\/$/, "")).replaceAll("{slug}", tenant.slug),
      expiresAt: new Date(Date.now() + this.settings.tokenTtlSeconds * 1000),
      user,
    };
  }

  /** The namespace user for this Zitadel subject; concurrent first launches race on a unique index, and lose gracefully. */
  private async findOrCreateNamespaceUser(namespace: TenantNamespace, caller: SignedInCaller): Promise<RecordModel> {
    const users = namespace.pb.collection(namespace.collections.users);
    const bySubject = namespace.pb.filter("zitadel_sub = {:sub}", { sub: caller.userId });
    const find = () => callPocketBase(namespace.instanceUrl, () => users.getList(1, 1, { filter: bySubject })).then((page) => page.items[0]);
    const existing = await find();
    if (existing) return existing;
    const password = randomBytes(24).toString("base64url");
    const placeholder = `${caller.userId.replace(/[^A-Za-z0-9._-]/g, "_")}@users.kombify.invalid`;
    const create = (email: string) =>
      callPocketBase(namespace.instanceUrl, () =>
        users.create({ email, emailVisibility: false, verified: true, password, passwordConfirm: password, name: caller.name ?? "", zitadel_sub: caller.userId }),
      );
    try {
      return await create(caller.email ?? placeholder);
    } catch (error) {
      const winner = await find();
      if (winner) return winner;
      // The address is taken by another subject in this namespace (a colleague's, or one reused): the user is
      // known by subject, never signs in by e-mail, so it gets the placeholder rather than a failed launch.
      if (caller.email && isEmailTaken(error)) return create(placeholder);
      throw error;
    }
  }

  /** The id of the mapping this call created, or null when it was there already. */
  private async recordMapping(namespace: TenantNamespace, caller: SignedInCaller, record: RecordModel): Promise<string | null> {
    const mappings = namespace.pb.collection(SSO_MAPPINGS_COLLECTION);
    const filter = namespace.pb.filter("zitadel_sub = {:sub} && tenant_id = {:tenant}", { sub: caller.userId, tenant: namespace.tenant.id });
    return callPocketBase(namespace.instanceUrl, async () => {
      const existing = await mappings.getList(1, 1, { filter });
      if (existing.items[0]) return null;
      return mappings
        .create({ zitadel_sub: caller.userId, tenant_id: namespace.tenant.id, tenant_slug: namespace.tenant.slug, user_record: record.id })
        .then((created) => created.id)
        .catch(async (error) => {
          if (!(await mappings.getList(1, 1, { filter })).items[0]) throw error;
          return null;
        });
    });
  }
}

function isEmailTaken(error: unknown): boolean {
  return error instanceof ClientResponseError && error.status === 400 && Boolean((error.response as { data?: { email?: unknown } })?.data?.email);
}
