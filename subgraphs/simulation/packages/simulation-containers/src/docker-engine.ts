import Docker from "dockerode";
import { errorMessage, errors, type AppError } from "@kombify/service-core/errors";

/** A Docker engine and the address it was reached at, for messages that tell the operator where to look. */
export interface DockerEngine {
  docker: Docker;
  address: string;
}

const DEFAULT_SOCKET = "/var/run/docker.sock";

/** Connects (lazily) to the engine at DOCKER_HOST (`unix:///path` or `tcp://host:port`), or the default socket. */
export function connectDockerEngine(dockerHost: string | undefined): DockerEngine {
  if (!dockerHost || dockerHost.startsWith("unix://")) {
    const socketPath = dockerHost ? dockerHost.slice("unix://".length) : DEFAULT_SOCKET;
    return { docker: new Docker({ socketPath }), address: `unix://${socketPath}` };
  }
  const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
  return {
    docker: new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: "http" }),
    address: dockerHost,
  };
}

/** UNAVAILABLE naming the engine's address, for any failure to reach it. */
function engineUnavailable(engine: DockerEngine, cause: unknown): AppError {
  return errors.unavailable(`The Docker engine at ${engine.address} is not reachable (${errorMessage(cause)}); simulations need it running.`);
}

/** Throws UNAVAILABLE unless the engine answers a ping within `timeoutMs`. */
export async function assertEngineReachable(engine: DockerEngine, timeoutMs = 3000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      engine.docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
      }),
    ]);
  } catch (error) {
    throw engineUnavailable(engine, error);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs an engine call; an engine that cannot be reached becomes UNAVAILABLE naming its address. */
export async function callEngine<T>(engine: DockerEngine, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isEngineUnreachable(error)) throw engineUnavailable(engine, error);
    throw error;
  }
}

/** Whether the engine has `image`; an unreachable engine is UNAVAILABLE. */
export async function imageExists(engine: DockerEngine, image: string): Promise<boolean> {
  try {
    await callEngine(engine, () => engine.docker.getImage(image).inspect());
    return true;
  } catch (error) {
    if (dockerStatus(error) === 404) return false;
    throw error;
  }
}

/** The HTTP status of a failed engine call (404 missing, 409 conflict, 304 not modified), if it has one. */
export function dockerStatus(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "statusCode" in error ? Number((error as { statusCode: unknown }).statusCode) : undefined;
}

/** Whether the engine itself could not be reached (as opposed to refusing a request). */
function isEngineUnreachable(error: unknown): boolean {
  const code = typeof error === "object" && error !== null && "code" in error ? (error as { code: unknown }).code : undefined;
  return code === "ENOENT" || code === "ECONNREFUSED" || code === "EACCES" || code === "ECONNRESET" || code === "ETIMEDOUT" || code === "EHOSTUNREACH";
}
