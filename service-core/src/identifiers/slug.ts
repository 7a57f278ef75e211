import { errors } from "../errors/app-error.js";

const SLUG_PATTERN = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

/** Words a tenant may not take: they collide with platform collections, routes or the migration's tenant. */
export const RESERVED_SLUGS = new Set([
  "admin", "api", "app", "auth", "default", "internal", "kombify", "platform", "pocketbase", "public",
  "root", "superusers", "system", "tenant", "tenants", "www",
]);

/** Throws BAD_USER_INPUT unless `slug` may name a tenant namespace. */
export function assertValidSlug(slug: string, field = "slug"): string {
  if (!SLUG_PATTERN.test(slug)) {
    throw errors.badInput(
      field,
      "must be 3 to 40 characters: lower-case letters, digits and '-', starting with a letter, not ending with '-'.",
    );
  }
  if (slug.includes("--")) throw errors.badInput(field, "must not contain '--'.");
  if (RESERVED_SLUGS.has(slug)) throw errors.badInput(field, `"${slug}" is reserved.`);
  return slug;
}

/** A slug suggestion from a display name ("Bob's Lab!" → "bobs-lab"); may still need validation. */
export function slugFromName(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return base.length >= 3 ? base : `lab-${base || "home"}`.slice(0, 40);
}
