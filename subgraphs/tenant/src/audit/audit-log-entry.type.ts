import { Field, ID, ObjectType } from "type-graphql";

@ObjectType("AuditLogEntry")
export class AuditLogEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => Date)
  at!: Date;

  @Field(() => ID, { nullable: true })
  actorUserId!: string | null;

  @Field(() => String)
  action!: string;

  @Field(() => String, { nullable: true })
  target!: string | null;

  @Field(() => String, { nullable: true, description: "The request that caused it, to correlate with logs." })
  requestId!: string | null;
}
