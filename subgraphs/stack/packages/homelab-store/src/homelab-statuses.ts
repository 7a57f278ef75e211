/**
 * The stack subgraph's status vocabulary, in one place: the GraphQL enums are registered from these (stack and
 * job types) and the namespace collections' select fields allow exactly these values.
 */
export enum StackStatus {
  DRAFT = "DRAFT",
  DEPLOYING = "DEPLOYING",
  RUNNING = "RUNNING",
  FAILED = "FAILED",
  DESTROYED = "DESTROYED",
}

export enum JobKind {
  DEPLOY = "DEPLOY",
  UPDATE = "UPDATE",
  DESTROY = "DESTROY",
}

export enum JobStatus {
  QUEUED = "QUEUED",
  RUNNING = "RUNNING",
  SUCCEEDED = "SUCCEEDED",
  FAILED = "FAILED",
  CANCELLED = "CANCELLED",
}
