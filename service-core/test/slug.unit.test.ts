import { describe, expect, it } from "vitest";
import { assertValidSlug, slugFromName } from "@kombify/service-core/identifiers";
import { namespaceCollections } from "@kombify/homelab-store";

describe("tenant slugs and namespaces", () => {
  it("accepts lower-case slugs and maps them to PocketBase collection names", () => {
    expect(assertValidSlug("acme-lab-2")).toBe("acme-lab-2");
    expect(namespaceCollections("acme-lab-2")).toEqual({
      users: "users_acme_lab_2",
      stacks: "stacks_acme_lab_2",
      nodes: "nodes_acme_lab_2",
      jobs: "jobs_acme_lab_2",
    });
  });

  it.each(["", "ab", "Acme", "acme_lab", "acme lab", "-acme", "acme-", "a--b", "1lab", "x".repeat(41), "admin", "default", "users_b"])(
    "refuses %j so no tenant can name its way into another's collections",
    (slug) => {
      expect(() => assertValidSlug(slug)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) }));
    },
  );

  it("derives slugs from display names", () => {
    expect(slugFromName("Bob's Lab!")).toBe("bob-s-lab");
    expect(slugFromName("Été Homelab")).toBe("ete-homelab");
    expect(slugFromName("42")).toBe("lab-home");
  });
});
