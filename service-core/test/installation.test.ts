import { describe, expect, it } from "vitest";
import { applyMigrations, connectDatabase, readInstallationId } from "@kombify/service-core/database";
import { ALL_MIGRATIONS, testDatabaseUrl } from "@kombify/testkit";

/** Services reach one database at different addresses (compose: `postgres:5432` here, `127.0.0.1:5432` there). */
describe("the installation identity", () => {
  it("is the same for every connection to one database, whatever its address, and survives re-applied migrations", async () => {
    const url = await testDatabaseUrl();
    const byLoopback = Object.assign(new URL(url), { hostname: "127.0.0.1" }).toString();
    const byName = Object.assign(new URL(url), { hostname: "localhost" }).toString();
    const read = async (address: string) => {
      const database = connectDatabase(address, { max: 1 });
      try {
        return await readInstallationId(database.db);
      } finally {
        await database.close();
      }
    };
    const first = await read(byLoopback);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(await read(byName)).toBe(first);
    await applyMigrations(url, ALL_MIGRATIONS);
    expect(await read(url)).toBe(first);
  });
});
