export { pocketBaseBinary, startPocketBase, stopChild, type RunningPocketBase, type PocketBaseProcessOptions } from "./pocketbase-process.js";
export { waitForOk } from "./wait-for-ok.js";
