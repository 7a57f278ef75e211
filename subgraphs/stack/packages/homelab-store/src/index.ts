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
export {
  callPocketBase,
  homelabMoving,
  isHomelabMoving,
  isMissingCollection,
  isNotFound,
  MOVING_RETRY_AFTER_SECONDS,
  PocketBaseConnections,
  pocketBaseAnswers,
  type SuperuserCredentials,
} from "./pocketbase-connections.js";
export { fenceNamespace, namespaceRecords, removeNamespace, syncNamespaceRecords, unfenceNamespace, type NamespaceSnapshot, type RecordSource } from "./namespace-relocation.js";
export { RealtimeFanout, type RecordEvent } from "./realtime-fanout.js";
export {
  assertHomelabStoreSecrets,
  connectHomelabStore,
  DEV_POCKETBASE_PASSWORD,
  homelabStoreSettingsShape,
  type HomelabStore,
  type HomelabStoreSettings,
} from "./homelab-store-settings.js";
