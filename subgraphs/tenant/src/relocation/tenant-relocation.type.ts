import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";

export enum RelocationPhase {
  FENCING = "fencing",
  COPYING = "copying",
  SWITCHING = "switching",
  CLEANING = "cleaning",
  ROLLING_BACK = "rolling_back",
  DONE = "done",
  ROLLED_BACK = "rolled_back",
}
registerEnumType(RelocationPhase, {
  name: "RelocationPhase",
  description:
    "FENCING: the namespace is closed on its old instance; COPYING: every record is copied and verified; SWITCHING: the " +
    "directory is being pointed at the new instance; CLEANING: the old namespace is being removed; DONE. A move that " +
    "fails before the switch goes ROLLING_BACK, then ROLLED_BACK: the tenant stays where it was.",
});

@ObjectType("TenantRelocation", {
  description: "A move of a tenant's homelab namespace from one KombiStack instance to another (platform admins only).",
})
export class TenantRelocation {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  tenantId!: string;

  @Field(() => ID)
  fromInstanceId!: string;

  @Field(() => ID)
  toInstanceId!: string;

  @Field(() => String, { description: "admin, upgrade, downgrade or drain." })
  reason!: string;

  @Field(() => RelocationPhase)
  phase!: `${RelocationPhase}`;

  @Field(() => Int, { description: "Records written to the new instance so far." })
  copiedRecords!: number;

  @Field(() => String, { nullable: true, description: "The checksum over every record that source and copy agreed on." })
  checksum!: string | null;

  @Field(() => String, { nullable: true, description: "The last step that failed, and why." })
  error!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}
