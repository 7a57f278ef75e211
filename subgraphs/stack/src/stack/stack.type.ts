import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from "type-graphql";
import { StackStatus } from "@kombify/homelab-store";

export { StackStatus };
registerEnumType(StackStatus, { name: "StackStatus" });

/** The StackKit entity, owned by the stackkit subgraph. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType("StackKit")
export class StackKitReference {
  @Field(() => ID)
  id!: string;
}

/** The Simulation entity, owned by the simulation subgraph. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType("Simulation")
export class SimulationReference {
  @Field(() => ID)
  id!: string;
}

@Directive('@key(fields: "id")')
@ObjectType("Stack", { description: "A StackKit deployed (or to be deployed) onto a set of the tenant's nodes." })
export class Stack {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => StackStatus)
  status!: `${StackStatus}`;

  @Field(() => Date)
  createdAt!: Date;

  stackKitId!: string;
}

@InputType("NodeInput")
export class NodeInput {
  @Field(() => String)
  hostname!: string;

  @Field(() => String)
  address!: string;

  @Field(() => String, { defaultValue: "worker" })
  role!: string;
}
