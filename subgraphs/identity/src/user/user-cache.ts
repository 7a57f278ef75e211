import { eq } from "drizzle-orm";
import type { Db } from "@kombify/service-core/database";
import type { SignedInCaller } from "@kombify/service-core/auth";
import { users, type UserRow } from "../db/schema.js";
import type { User } from "./user.type.js";

/** PostgreSQL's cache of Zitadel users, refreshed from each verified request; Zitadel stays the source of truth. */
export class UserCache {
  constructor(private readonly db: Db) {}

  async remember(caller: SignedInCaller): Promise<User> {
    const values = {
      id: caller.userId,
      email: caller.email ?? "",
      displayName: caller.name,
      roles: caller.roles,
      tenantId: caller.tenant?.id ?? null,
      lastSeenAt: new Date(),
    };
    const [row] = await this.db
      .insert(users)
      .values(values)
      .onConflictDoUpdate({ target: users.id, set: values })
      .returning();
    return toUser(row!);
  }

  async byId(id: string): Promise<User | null> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row ? toUser(row) : null;
  }
}

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, displayName: row.displayName, roles: row.roles, tenantId: row.tenantId };
}
