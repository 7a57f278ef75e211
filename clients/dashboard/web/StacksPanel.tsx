import { useEffect, useRef } from "react";
import { useMutation, type CombinedError } from "urql";
import { errorMessage } from "./client";
import { ACTIVE_JOB_STATUSES, DEPLOY_STACK, type DeployStackData, type Job, type Stack } from "./operations";
import { CardHead, ErrorNote, ProgressBar, StatusBadge, Time } from "./ui";

interface Props {
  stacks: Stack[];
  fetching: boolean;
  error: CombinedError | undefined;
  onJob: (job: Job) => void;
}

export function StacksPanel({ stacks, fetching, error, onJob }: Props) {
  return (
    <section className="panel" aria-labelledby="stacks-heading">
      <h2 id="stacks-heading">Stacks</h2>
      {error ? <ErrorNote>Stacks could not be read: {errorMessage(error)}</ErrorNote> : null}
      {fetching ? <p className="empty">Loading stacks…</p> : null}
      {!fetching && !error && stacks.length === 0 ? <p className="empty">No stacks yet: create one with the createStack mutation.</p> : null}
      <div className="cards">
        {stacks.map((stack) => (
          <StackCard key={stack.id} stack={stack} onJob={onJob} />
        ))}
      </div>
    </section>
  );
}

function StackCard({ stack, onJob }: { stack: Stack; onJob: (job: Job) => void }) {
  const [deploying, deploy] = useMutation<DeployStackData, { id: string }>(DEPLOY_STACK);
  const active = stack.jobs.some((job) => ACTIVE_JOB_STATUSES.includes(job.status));
  const headingId = `stack-${stack.id}`;

  async function startDeploy() {
    const result = await deploy({ id: stack.id });
    if (result.data) onJob(result.data.deployStack);
  }

  return (
    <article className="card" aria-labelledby={headingId}>
      <CardHead id={headingId} title={stack.name} status={stack.status} statusLabel="Stack status" />
      <p className="meta">
        {stack.stackKit.name} {stack.stackKit.version}
        {stack.simulation ? <> · on simulation {stack.simulation.name}</> : null}
      </p>
      <h4>Nodes</h4>
      {stack.nodes.length === 0 ? (
        <p className="empty">No nodes.</p>
      ) : (
        <ul className="nodes">
          {stack.nodes.map((node) => (
            <li key={node.id}>
              <span className="node-name">{node.hostname}</span>
              <span className="meta">
                {node.address} · {node.role}
              </span>
              <StatusBadge status={node.status} label="Node status" />
            </li>
          ))}
        </ul>
      )}
      <div className="actions">
        <button type="button" className="primary" onClick={() => void startDeploy()} disabled={active || deploying.fetching} aria-describedby={active ? `${headingId}-busy` : undefined}>
          {deploying.fetching ? "Deploying…" : "Deploy"}
          <span className="visually-hidden"> {stack.name}</span>
        </button>
        {active ? (
          <span id={`${headingId}-busy`} className="meta">
            A deploy is under way.
          </span>
        ) : null}
      </div>
      {deploying.error ? <ErrorNote>The deploy was not started: {errorMessage(deploying.error)}</ErrorNote> : null}
      <h4>Jobs</h4>
      {stack.jobs.length === 0 ? (
        <p className="empty">No jobs yet.</p>
      ) : (
        <ol className="jobs">
          {stack.jobs.map((job, index) => (
            <JobItem key={job.id} job={job} stackName={stack.name} newest={index === 0} />
          ))}
        </ol>
      )}
    </article>
  );
}

function JobItem({ job, stackName, newest }: { job: Job; stackName: string; newest: boolean }) {
  const kind = job.kind.charAt(0) + job.kind.slice(1).toLowerCase();
  const label = `${kind} of ${stackName}, started ${new Date(job.createdAt).toLocaleTimeString()}`;
  return (
    <li className="job">
      <div className="job-head">
        <span className="job-kind">{kind}</span>
        <StatusBadge status={job.status} label="Job status" />
        <span className="meta">
          <Time value={job.createdAt} />
        </span>
      </div>
      <ProgressBar value={job.progress} label={`${label}: progress`} />
      {job.message ? <p className="meta job-message">{job.message}</p> : null}
      {job.logs.length === 0 ? null : newest ? (
        <LogTail lines={job.logs} label={`${label}: log`} />
      ) : (
        <details>
          <summary>Log</summary>
          <LogTail lines={job.logs} label={`${label}: log`} />
        </details>
      )}
    </li>
  );
}

/** The job's last lines; it follows new lines as they come unless the reader has scrolled up to read. */
function LogTail({ lines, label }: { lines: string[]; label: string }) {
  const box = useRef<HTMLPreElement>(null);
  const following = useRef(true);
  const text = lines.join("\n");
  useEffect(() => {
    if (following.current && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [text]);
  return (
    <pre
      ref={box}
      className="log"
      role="log"
      aria-label={label}
      tabIndex={0}
      onScroll={(event) => {
        const element = event.currentTarget;
        following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
      }}
    >
      {text}
    </pre>
  );
}
