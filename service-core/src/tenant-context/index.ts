export {
  importContextSigningKey,
  importContextVerifyKey,
  OPERATION_MISMATCH,
  operationHash,
  TENANT_CONTEXT_EXTENSION,
  TENANT_CONTEXT_HEADER,
  TENANT_CONTEXT_LIFETIME_SECONDS,
  TenantContextSigner,
  TenantContextVerifier,
  type ContextVerification,
  type OperationHash,
} from "./tenant-context-token.js";
