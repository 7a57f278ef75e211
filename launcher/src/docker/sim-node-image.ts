import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { assertEngineReachable, connectDockerEngine, imageExists, type DockerEngine } from "@kombify/simulation-containers";
import { errorMessage } from "@kombify/service-core/errors";

export const DEFAULT_SIM_NODE_IMAGE = "kombify/sim-node:1";
const BUILD_SCRIPT = fileURLToPath(new URL("../../../docker/sim-node/build.sh", import.meta.url));

export type EngineStatus =
  | { reachable: true; engine: DockerEngine; image: "present" | "built" }
  | { reachable: false; engine: DockerEngine; reason: string };

/**
 * Whether the Docker engine (DOCKER_HOST, or the default socket) answers, with the simulated-node image built
 * by docker/sim-node/build.sh when it is missing. Never throws for an absent engine: simulations are optional.
 */
export async function prepareSimulationEngine(dockerHost: string | undefined, image = DEFAULT_SIM_NODE_IMAGE): Promise<EngineStatus> {
  const engine = connectDockerEngine(dockerHost);
  try {
    await assertEngineReachable(engine);
  } catch (error) {
    return { reachable: false, engine, reason: errorMessage(error) };
  }
  if (await imageExists(engine, image)) return { reachable: true, engine, image: "present" };
  try {
    await promisify(execFile)("bash", [BUILD_SCRIPT, image], { env: process.env });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`the simulated-node image ${image} is missing and could not be built: ${stderr || errorMessage(error)}`);
  }
  return { reachable: true, engine, image: "built" };
}
