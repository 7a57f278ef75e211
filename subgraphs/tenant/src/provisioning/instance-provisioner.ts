/**
 * How a new KombiStack instance (one PocketBase) comes into being. One interface, implementations chosen by
 * configuration (`process`, `docker`; a cloud provisioner such as a Kubernetes StatefulSet plugs in here too).
 * A provisioner only creates and removes the PocketBase; registering it (after its health answers), placing
 * tenants on it and retiring it are the instance directory's and the provisioning service's job.
 */
export type DeploymentMode = "SHARED" | "DEDICATED";

export interface ProvisionRequest {
  /** The instance's unique name (`[a-z0-9-]{2,63}`), also used to name its process data dir, container or volume. */
  name: string;
  region: string;
  deploymentMode: DeploymentMode;
}

export interface ProvisionedInstance {
  /** Where the PocketBase answers; its superuser is the one from configuration. */
  pocketbaseUrl: string;
  /** Opaque to everyone but the provisioner that made it (a process id, a container id, …); stored with the instance. */
  handle: string;
}

export interface InstanceProvisioner {
  /** `process`, `docker`, … : shown by the admin `instances` query. */
  readonly kind: string;
  /** Creates a PocketBase and resolves once its /api/health answers. */
  provision(request: ProvisionRequest): Promise<ProvisionedInstance>;
  /** Removes what `provision` made (the data too); idempotent. */
  remove(handle: string): Promise<void>;
  /** Stops what this process supervises, without removing data (shutdown). */
  close(): Promise<void>;
  /**
   * Brings back, at start, an instance this kind of provisioner made before (a `process` provisioner's children
   * stop with the service that started them; a container or a StatefulSet keeps running and needs nothing).
   * Resolves once it answers at `pocketbaseUrl`, or throws. Optional.
   */
  resume?(instance: { handle: string; pocketbaseUrl: string }): Promise<void>;
  /**
   * Everything this provisioner made that still exists, with when it was made: what a service that died between
   * `provision` and registering left behind is found here and removed (see InstanceProvisioning.removeOrphans). Optional.
   */
  made?(): Promise<{ handle: string; createdAt: Date }[]>;
}
