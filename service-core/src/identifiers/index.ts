export { assertValidSlug, RESERVED_SLUGS, slugFromName } from "./slug.js";
export { isUuid } from "./uuid.js";
