import type { CombinedError } from "urql";
import { errorMessage } from "./client";
import type { Simulation } from "./operations";
import { CardHead, ErrorNote, StatusBadge, Time } from "./ui";

export function SimulationsPanel({ simulations, fetching, error }: { simulations: Simulation[]; fetching: boolean; error: CombinedError | undefined }) {
  return (
    <section className="panel" aria-labelledby="simulations-heading">
      <h2 id="simulations-heading">Simulations</h2>
      {error ? <ErrorNote>Simulations could not be read: {errorMessage(error)}</ErrorNote> : null}
      {fetching ? <p className="empty">Loading simulations…</p> : null}
      {!fetching && !error && simulations.length === 0 ? <p className="empty">No simulations: create one with the createSimulation mutation.</p> : null}
      <div className="cards">
        {simulations.map((simulation) => (
          <SimulationCard key={simulation.id} simulation={simulation} />
        ))}
      </div>
    </section>
  );
}

function SimulationCard({ simulation }: { simulation: Simulation }) {
  const headingId = `simulation-${simulation.id}`;
  return (
    <article className="card" aria-labelledby={headingId}>
      <CardHead id={headingId} title={simulation.name} status={simulation.status} statusLabel="Simulation status" />
      <p className="meta">
        {simulation.stackKit ? `${simulation.stackKit.name} · ` : null}
        created <Time value={simulation.createdAt} />
      </p>
      {simulation.statusMessage ? <p className="status-message">{simulation.statusMessage}</p> : null}
      <h4>Nodes</h4>
      <ul className="nodes" aria-label={`Nodes of ${simulation.name}`}>
        {simulation.nodes.map((node) => (
          <li key={node.name}>
            <span className="node-name">{node.name}</span>
            <StatusBadge status={node.status} label="Node status" />
            {node.sshPort ? (
              <code className="ssh">
                ssh -p {node.sshPort} root@{node.sshHost}
              </code>
            ) : null}
            {node.statusMessage ? <span className="status-message">{node.statusMessage}</span> : null}
          </li>
        ))}
      </ul>
    </article>
  );
}
