import { Directive, Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";

export enum SimulationStatus {
  PENDING = "PENDING",
  PROVISIONING = "PROVISIONING",
  RUNNING = "RUNNING",
  STOPPING = "STOPPING",
  STOPPED = "STOPPED",
  FAILED = "FAILED",
  /** Only in simulationUpdated: the simulation's last event, once it was deleted. */
  DELETED = "DELETED",
}
registerEnumType(SimulationStatus, {
  name: "SimulationStatus",
  valuesConfig: { DELETED: { description: "Only in simulationUpdated: the last event of a deleted simulation (its nodes are gone)." } },
});

/** The StackKit entity, owned by the stackkit subgraph. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType("StackKit")
export class StackKitReference {
  @Field(() => ID)
  id!: string;
}

@ObjectType("SimulatedNode", { description: "One container named <tenant>_<simulation>_<node> on the tenant's own Docker network." })
export class SimulatedNode {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  containerId!: string | null;

  @Field(() => String)
  image!: string;

  @Field(() => String, { description: "Where to connect for SSH: `ssh -p <sshPort> root@<sshHost>`." })
  sshHost!: string;

  @Field(() => Int, { nullable: true, description: "This node's SSH port, unique across all tenants." })
  sshPort!: number | null;

  @Field(() => String, { description: "PENDING, PROVISIONING, RUNNING, STOPPING, STOPPED or FAILED." })
  status!: string;

  @Field(() => String, { nullable: true, description: "Why the node FAILED, when it did (e.g. killed outside kombify)." })
  statusMessage!: string | null;
}

@Directive('@key(fields: "id")')
@ObjectType("Simulation", { description: "A simulated homelab: containers standing in for the tenant's nodes." })
export class Simulation {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => SimulationStatus)
  status!: SimulationStatus;

  @Field(() => String, { nullable: true, description: "Why the simulation FAILED, when it did." })
  statusMessage!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  stackKitId!: string | null;

  /** Its nodes when already read: a subscription event reads them once for all its subscribers. */
  loadedNodes?: SimulatedNode[];
}
