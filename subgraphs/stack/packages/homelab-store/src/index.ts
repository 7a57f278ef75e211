export { JobKind, JobStatus, StackStatus } from "./homelab-statuses.js";
export { ensurePlatformCollections, provisionNamespace } from "./namespace-provisioner.js";
export {
  FEATURE_FLAGS_COLLECTION,
  namespaceCollections,
  NamespaceResolver,
  SSO_MAPPINGS_COLLECTION,
  type InstanceLookup,
  type NamespaceCollections,
  type NamespaceOwner,
  type TenantNamespace,
} from "./namespace-resolver.js";
export { callPocketBase, isNotFound, PocketBaseConnections, pocketBaseAnswers, type SuperuserCredentials } from "./pocketbase-connections.js";
export { RealtimeFanout, type RecordEvent } from "./realtime-fanout.js";
export {
  assertHomelabStoreSecrets,
  connectHomelabStore,
  DEV_POCKETBASE_PASSWORD,
  homelabStoreSettingsShape,
  type HomelabStore,
  type HomelabStoreSettings,
} from "./homelab-store-settings.js";
