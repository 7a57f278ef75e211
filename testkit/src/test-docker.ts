import { assertPortFree, databaseAndDescendants, DEFAULT_SIM_NODE_IMAGE, prepareSimulationEngine } from "@kombify/launcher";
import { assertEngineReachable, connectDockerEngine, labelFilters, MANAGED_BY_KOMBISIM, SIMULATION_LABELS, type DockerEngine } from "@kombify/simulation-containers";
import { connectDatabase, readInstallationId } from "@kombify/service-core/database";

export const TEST_NODE_IMAGE = DEFAULT_SIM_NODE_IMAGE;

export type TestDocker = { available: true; engine: DockerEngine } | { available: false; reason: string };

let probe: Promise<TestDocker> | undefined;

/**
 * The Docker engine for tests (DOCKER_HOST or the default socket), with the node image built when missing.
 * Without an engine, Docker tests skip with a message saying how to enable them, except under CI, where a
 * missing engine fails the run: CI must test simulations for real.
 */
export function testDocker(): Promise<TestDocker> {
  probe ??= (async (): Promise<TestDocker> => {
    const status = await prepareSimulationEngine(process.env.DOCKER_HOST, TEST_NODE_IMAGE);
    if (status.reachable) return { available: true, engine: status.engine };
    const reason = `${status.reason} Start one (docs/simulations.md) or point DOCKER_HOST at it to run the simulation tests.`;
    if (process.env.CI) throw new Error(`CI needs a Docker engine: ${reason}`);
    console.warn(`Skipping Docker tests: ${reason}`);
    return { available: false, reason };
  })();
  return probe;
}

let portRange: Promise<string> | undefined;

/**
 * An SSH port range of this test file's own (test files run in parallel, each with its own database, and the
 * ports are real listening sockets on this machine): a random block whose ports are free right now.
 */
export function testSshPortRange(size = 60): Promise<string> {
  portRange ??= (async () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const first = 23_000 + Math.floor(Math.random() * 140) * 60;
      const ports = Array.from({ length: size }, (_, index) => first + index);
      if ((await Promise.all(ports.map(isFree))).every(Boolean)) return `${first}-${first + size - 1}`;
    }
    throw new Error("could not find a free block of ports for simulated nodes' SSH");
  })();
  return portRange;
}

function isFree(port: number): Promise<boolean> {
  return assertPortFree(port, "127.0.0.1", "SIMULATION_SSH_PORTS").then(
    () => true,
    () => false,
  );
}

/**
 * After a run: removes the containers and networks of the run's databases (the run's own and each test file's),
 * whatever a failed test left behind. Other installations on the same engine are not touched.
 */
export async function removeSimulationLeftovers(runDatabaseUrl: string): Promise<void> {
  const engine = connectDockerEngine(process.env.DOCKER_HOST);
  try {
    await assertEngineReachable(engine);
  } catch {
    return;
  }
  const installations = new Set<string>();
  for (const url of await databaseAndDescendants(runDatabaseUrl)) {
    const database = connectDatabase(url, { max: 1 });
    // A database whose migrations never ran has no installation, and so no containers.
    await readInstallationId(database.db).then((id) => installations.add(id), () => {});
    await database.close();
  }
  const ours = (labels: Record<string, string> | undefined) => installations.has(labels?.[SIMULATION_LABELS.installation] ?? "");
  const filters = { label: labelFilters({ [SIMULATION_LABELS.managedBy]: MANAGED_BY_KOMBISIM }) };
  for (const container of await engine.docker.listContainers({ all: true, filters })) {
    if (ours(container.Labels)) await engine.docker.getContainer(container.Id).remove({ force: true }).catch(() => {});
  }
  for (const network of await engine.docker.listNetworks({ filters })) {
    if (ours(network.Labels)) await engine.docker.getNetwork(network.Id).remove().catch(() => {});
  }
}
