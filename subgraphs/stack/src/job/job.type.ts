import { Directive, Field, Float, ID, ObjectType, registerEnumType } from "type-graphql";
import { JobKind, JobStatus } from "@kombify/homelab-store";
import type { Stack } from "../stack/stack.type.js";

export { JobKind, JobStatus };
registerEnumType(JobKind, { name: "JobKind" });
registerEnumType(JobStatus, { name: "JobStatus" });

@Directive('@key(fields: "id")')
@ObjectType("Job", { description: "One deploy, update or destroy of a stack, with its progress and log." })
export class Job {
  @Field(() => ID)
  id!: string;

  @Field(() => JobKind)
  kind!: `${JobKind}`;

  @Field(() => JobStatus)
  status!: `${JobStatus}`;

  @Field(() => Float, { description: "0.0 to 1.0" })
  progress!: number;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;

  stackId!: string;
  allLogs!: string[];
  /** The job's stack as PocketBase embedded it in a realtime event, when it did. */
  expandedStack?: Stack;
}
