import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from "type-graphql";
import { errors } from "@kombify/service-core/errors";
import { recordAudit } from "@kombify/service-core/audit";
import { requireTenant, type RequestContext } from "@kombify/service-core/auth";
import { serializedBy, type Db } from "@kombify/service-core/database";
import { stackWritesOf } from "../stack/stack-write-lock.js";
import type { HomelabStores } from "../stack/homelab-stores.js";
import { validateNodes } from "../stack/stack-input.js";
import { NodeInput } from "../stack/stack.type.js";
import { Node } from "./node.type.js";

@Resolver(() => Node)
export class NodeResolver {
  constructor(
    private readonly stores: HomelabStores,
    private readonly db: Db,
  ) {}

  @Authorized()
  @Mutation(() => Node, { description: "Adds a node to a stack; hostnames are unique within the stack." })
  async addNode(@Ctx() context: RequestContext, @Arg("stackId", () => ID) stackId: string, @Arg("node", () => NodeInput) node: NodeInput): Promise<Node> {
    const store = await this.stores.of(context);
    // The node count and hostname check and the write as one step, like a stack's quota.
    const added = await serializedBy(this.db, stackWritesOf(requireTenant(context).id), async () => {
      if (!(await store.stack(stackId))) throw errors.notFound("Stack", stackId);
      const existing = await store.nodesOf(stackId);
      const [valid] = validateNodes([...existing, node]).slice(existing.length);
      return store.addNode(stackId, valid!);
    });
    await recordAudit(this.db, context, { action: "node.add", target: `stack:${stackId}`, details: { node: added.id } });
    return added;
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Removes a node from its stack." })
  async removeNode(@Ctx() context: RequestContext, @Arg("id", () => ID) id: string): Promise<boolean> {
    const store = await this.stores.of(context);
    if (!(await store.removeNode(id))) throw errors.notFound("Node", id);
    await recordAudit(this.db, context, { action: "node.remove", target: `node:${id}` });
    return true;
  }
}
