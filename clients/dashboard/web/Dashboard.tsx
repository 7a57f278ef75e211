import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from "react";
import { Provider, useClient, useQuery } from "urql";
import { createGraphClients, errorCode, errorMessage, type GraphClients, type LiveState } from "./client";
import type { DashboardConfig } from "./config";
import {
  JOB_UPDATED,
  SIMULATION_UPDATED,
  SIMULATIONS_QUERY,
  STACKS_QUERY,
  TENANT_QUERY,
  type Job,
  type JobUpdatedData,
  type Simulation,
  type SimulationsData,
  type SimulationUpdatedData,
  type StacksData,
  type TenantData,
} from "./operations";
import { PlanPanel } from "./PlanPanel";
import { SimulationsPanel } from "./SimulationsPanel";
import { StacksPanel } from "./StacksPanel";
import { ErrorNote } from "./ui";

interface Props {
  config: DashboardConfig;
  token: string;
  onSignOut: (reason?: string) => void;
}

/** One urql client and one socket per token; both go when the token does. */
export function Dashboard({ config, token, onSignOut }: Props) {
  const [clients, setClients] = useState<GraphClients | null>(null);
  const [live, setLive] = useState<{ state: LiveState; reason?: string }>({ state: "connecting" });
  const reconnected = useRef<() => void>(() => {});

  useEffect(() => {
    const created = createGraphClients(config, token, (state, reason) => setLive({ state, reason }), () => reconnected.current());
    setClients(created);
    return () => void created.socket.dispose();
  }, [config, token]);

  if (!clients) return null;
  return (
    <Provider value={clients.client}>
      <Live live={live} onSignOut={onSignOut} reconnected={reconnected} />
    </Provider>
  );
}

const LIVE_LABELS: Record<LiveState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  refused: "Live updates refused",
};

/** How far a job has got: a later state never gives way to an earlier one, whichever arrived last. */
function jobRank(job: Job): [number, number, number] {
  const stage = job.status === "QUEUED" ? 0 : job.status === "RUNNING" ? 1 : 2;
  return [stage, job.progress, job.logs.length];
}

function later(a: Job, b: Job): Job {
  const [x, y] = [jobRank(a), jobRank(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! > y[i]! ? a : b;
  return b;
}

const byNewest = (a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) =>
  Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id.localeCompare(a.id);

function Live({ live, onSignOut, reconnected }: { live: { state: LiveState; reason?: string }; onSignOut: Props["onSignOut"]; reconnected: RefObject<() => void> }) {
  const client = useClient();
  const [tenant, refetchTenant] = useQuery<TenantData>({ query: TENANT_QUERY });
  const [stacks, refetchStacks] = useQuery<StacksData>({ query: STACKS_QUERY });
  const [simulations, refetchSimulations] = useQuery<SimulationsData>({ query: SIMULATIONS_QUERY });
  const [liveJobs, setLiveJobs] = useState<ReadonlyMap<string, Job>>(new Map());
  const [liveSimulations, setLiveSimulations] = useState<ReadonlyMap<string, Simulation>>(new Map());
  const [jobsProblem, setJobsProblem] = useState<string | null>(null);
  const [simulationsProblem, setSimulationsProblem] = useState<string | null>(null);
  const hasTenant = !!tenant.data?.myTenant;

  const refreshAll = useCallback(() => {
    refetchTenant({ requestPolicy: "network-only" });
    refetchStacks({ requestPolicy: "network-only" });
    refetchSimulations({ requestPolicy: "network-only" });
  }, [refetchTenant, refetchStacks, refetchSimulations]);
  useEffect(() => {
    reconnected.current = () => {
      setLiveSimulations(new Map());
      refreshAll();
    };
  }, [reconnected, refreshAll]);

  // A refused token ends the session, saying why.
  const refusal = [tenant.error, stacks.error, simulations.error].find((error) => errorCode(error) === "UNAUTHENTICATED");
  useEffect(() => {
    if (refusal) onSignOut(`The graph refused the token: ${errorMessage(refusal)}`);
    else if (live.state === "refused") onSignOut(`Live updates were refused: ${live.reason ?? "the token was not accepted"}.`);
  }, [refusal, live, onSignOut]);

  // The plan has no event of its own: read it again now and then, and whenever the tab comes back into view.
  useEffect(() => {
    const again = () => document.visibilityState === "visible" && refetchTenant({ requestPolicy: "network-only" });
    const timer = setInterval(again, 30_000);
    document.addEventListener("visibilitychange", again);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", again);
    };
  }, [refetchTenant]);

  // Stack status follows its job: once a job ends, read the stacks again (the runner sets the stack's status
  // just after the job's last event, hence the second read).
  const stackRefresh = useRef<ReturnType<typeof setTimeout>[]>([]);
  const stacksChanged = useCallback(() => {
    for (const delay of [0, 1000]) stackRefresh.current.push(setTimeout(() => refetchStacks({ requestPolicy: "network-only" }), delay));
  }, [refetchStacks]);
  useEffect(() => () => stackRefresh.current.forEach(clearTimeout), []);

  const addJob = useCallback(
    (job: Job) => {
      setLiveJobs((jobs) => {
        const known = jobs.get(job.id);
        return new Map(jobs).set(job.id, known ? later(known, job) : job);
      });
      if (job.status !== "QUEUED" && job.status !== "RUNNING") stacksChanged();
    },
    [stacksChanged],
  );

  useEffect(() => {
    if (!hasTenant) return;
    const jobs = client.subscription<JobUpdatedData>(JOB_UPDATED, {}).subscribe((result) => {
      if (result.data) addJob(result.data.jobUpdated);
      setJobsProblem(result.error ? `Job updates stopped: ${errorMessage(result.error)}` : null);
    });
    const sims = client.subscription<SimulationUpdatedData>(SIMULATION_UPDATED, {}).subscribe((result) => {
      const simulation = result.data?.simulationUpdated;
      if (simulation) setLiveSimulations((known) => new Map(known).set(simulation.id, simulation));
      setSimulationsProblem(result.error ? `Simulation updates stopped: ${errorMessage(result.error)}` : null);
    });
    return () => {
      jobs.unsubscribe();
      sims.unsubscribe();
    };
  }, [client, hasTenant, addJob]);

  const stackList = useMemo(() => {
    return (stacks.data?.stacks ?? []).map((stack) => {
      const jobs = new Map(stack.jobs.map((job) => [job.id, job]));
      for (const job of liveJobs.values()) {
        if (job.stack.id !== stack.id) continue;
        const known = jobs.get(job.id);
        jobs.set(job.id, known ? later(known, job) : job);
      }
      return { ...stack, jobs: [...jobs.values()].sort(byNewest).slice(0, 5) };
    });
  }, [stacks.data, liveJobs]);

  const simulationList = useMemo(() => {
    const all = new Map((simulations.data?.simulations ?? []).map((simulation) => [simulation.id, simulation]));
    for (const simulation of liveSimulations.values()) all.set(simulation.id, simulation);
    return [...all.values()].filter((simulation) => simulation.status !== "DELETED").sort(byNewest);
  }, [simulations.data, liveSimulations]);

  const me = tenant.data?.myTenant;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="brand">
          <h1>kombify dashboard</h1>
          {me ? <p className="tenant">{me.name}</p> : null}
        </div>
        <p className={`live live-${live.state}`} role="status" aria-live="polite">
          <span className="live-dot" aria-hidden="true" />
          {LIVE_LABELS[live.state]}
        </p>
        <button type="button" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {jobsProblem ? <ErrorNote>{jobsProblem}</ErrorNote> : null}
        {simulationsProblem ? <ErrorNote>{simulationsProblem}</ErrorNote> : null}
        {tenant.error && !refusal ? <ErrorNote>Your tenant could not be read: {errorMessage(tenant.error)}</ErrorNote> : null}
        {tenant.data && !me ? (
          <p className="empty">Your organisation has no tenant yet: create one with the createTenant mutation, then come back.</p>
        ) : null}
        {me ? (
          <>
            <PlanPanel plan={me.plan} stackCount={stacks.data?.stacks.length} simulationCount={simulations.data ? simulationList.length : undefined} />
            <StacksPanel stacks={stackList} fetching={stacks.fetching && !stacks.data} error={stacks.error} onJob={addJob} />
            <SimulationsPanel simulations={simulationList} fetching={simulations.fetching && !simulations.data} error={simulations.error} />
          </>
        ) : tenant.fetching ? (
          <p className="empty" role="status">
            Loading…
          </p>
        ) : null}
      </main>
    </>
  );
}
