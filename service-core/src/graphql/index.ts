export { batchLoader, PerRequest, type BatchLoader } from "./request-batches.js";
export { SchemaBoundSources } from "./schema-bound-sources.js";
