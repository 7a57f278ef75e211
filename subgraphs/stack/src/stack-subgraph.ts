import { z } from "zod";
import { buildFederatedSubgraph, resolverContainer } from "@kombify/service-core/federation/subgraph-schema";
import { connectDockerEngine } from "@kombify/simulation-containers";
import { envTypes } from "@kombify/service-core/config";
import { NamespaceResolver, RealtimeFanout } from "@kombify/homelab-store";
import type { RequestContext } from "@kombify/service-core/auth";
import { assertHomelabStoreSecrets, connectHomelabStore, homelabStoreSettingsShape } from "@kombify/homelab-store";
import { Entitlements, PlanCatalog, planCatalogSettingsShape } from "@kombify/plan-catalog";
import { StackKitCatalog, stackKitCatalogSettingsShape } from "@kombify/stackkit-catalog";
import { defineSubgraph } from "@kombify/service-core/server/subgraph-runtime";
import { instanceLookup, TENANT_CHANGED_CHANNEL } from "@kombify/subgraph-tenant/tenant-directory";
import { stackMigrations } from "./db/schema.js";
import { JobEvents } from "./job/job-events.js";
import { JobQueue } from "./job/job-queue.js";
import { JobService } from "./job/job-service.js";
import { JobRunner } from "./runner/job-runner.js";
import { DockerExecStepExecutor } from "./runner/docker-exec-step-executor.js";
import { DryRunStepExecutor, RoutingStepExecutor } from "./runner/step-executor.js";
import { SimulationLinks } from "./simulation/simulation-links.js";
import { JobResolver } from "./job/job.resolver.js";
import { NodeResolver } from "./node/node.resolver.js";
import type { HomelabLoaders } from "./stack/homelab-loaders.js";
import { HomelabStores } from "./stack/homelab-stores.js";
import { StackResolver } from "./stack/stack.resolver.js";
import { Tenant, TenantStacksResolver } from "./tenant/tenant-stacks.resolver.js";

const stackSettings = {
  JOB_RUNNER_ENABLED: envTypes.boolean(true),
  JOB_RUNNER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4).describe("an integer from 1 to 64"),
  DRY_RUN_STEP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(400).describe("milliseconds per step on nodes without an agent"),
  DOCKER_HOST: envTypes.dockerHost(),
};

/** Stacks, their nodes and jobs, stored in each tenant's PocketBase namespace, and the runner that deploys them. */
export const stackSubgraph = defineSubgraph({
  name: "stack",
  settings: { ...stackSettings, ...homelabStoreSettingsShape, ...planCatalogSettingsShape, ...stackKitCatalogSettingsShape },
  check: assertHomelabStoreSecrets,
  async create(runtime, settings) {
    const homelab = connectHomelabStore(settings);
    const entitlements = new Entitlements(PlanCatalog.load(settings.PLANS_FILE));
    const stackkits = StackKitCatalog.load(settings.STACKKITS_DIR);
    await runtime.migrate(stackMigrations);
    const namespaces = new NamespaceResolver(instanceLookup(runtime.db), homelab.connections);
    const stores = new HomelabStores(namespaces);
    const queue = new JobQueue(runtime.db);
    const jobs = new JobService(runtime.db, stores, queue);
    const simulations = new SimulationLinks(runtime.db);
    const jobEvents = new JobEvents(namespaces, new RealtimeFanout());
    const executor = new RoutingStepExecutor(
      new DockerExecStepExecutor(connectDockerEngine(settings.DOCKER_HOST), runtime.installationId),
      new DryRunStepExecutor(settings.DRY_RUN_STEP_DELAY_MS),
    );
    const runner = settings.JOB_RUNNER_ENABLED
      ? new JobRunner(runtime.db, queue, namespaces, stackkits, executor, simulations, jobEvents, runtime.log, {
          databaseUrl: settings.DATABASE_URL,
          concurrency: settings.JOB_RUNNER_CONCURRENCY,
        })
      : null;
    // Representations arrive by the hundred in one _entities call: each kind is read in one batch.
    const byIdInCallersNamespace =
      <T>(find: (batched: HomelabLoaders, id: string) => Promise<T | null>) =>
      async (reference: { id: string }, context: RequestContext): Promise<T | null> => {
        if (context.caller.kind !== "user" || !context.caller.tenant) return null;
        return find(await stores.batchedFor(context), reference.id);
      };
    const subgraph = await buildFederatedSubgraph({
      resolvers: [StackResolver, JobResolver, NodeResolver, TenantStacksResolver],
      container: resolverContainer([
        new StackResolver(stores, stackkits, entitlements, runtime.db, jobs, simulations),
        new JobResolver(stores, jobs),
        new NodeResolver(stores, runtime.db),
        new TenantStacksResolver(stores),
      ]),
      orphanedTypes: [Tenant],
      referenceResolvers: {
        Tenant: { __resolveReference: (reference: { id: string }) => reference },
        Stack: { __resolveReference: byIdInCallersNamespace((batched, id) => batched.stack(id)) },
        Job: { __resolveReference: byIdInCallersNamespace((batched, id) => batched.job(id)) },
        Node: { __resolveReference: byIdInCallersNamespace((batched, id) => batched.node(id)) },
      },
    });
    JobResolver.events.bind(subgraph.schema, jobEvents);
    return {
      subgraph,
      readiness: { database: runtime.checks.database, pocketbase: homelab.answers },
      start: async () => {
        // A tenant moved (or began moving): its instance is asked of the directory again, not remembered.
        await runtime.database.sql.listen(TENANT_CHANGED_CHANNEL, (tenantId) => namespaces.forget(tenantId));
        await runner?.start();
      },
      stop: async () => runner?.stop(),
    };
  },
});
