import type { TenantData } from "./operations";

type Plan = NonNullable<TenantData["myTenant"]>["plan"];

function Usage({ used, limit, noun }: { used: number | undefined; limit: number; noun: string }) {
  return (
    <>
      {used === undefined ? limit : `${used} of ${limit}`} {noun}
      {used !== undefined && used >= limit ? <span className="at-limit"> (at the limit)</span> : null}
    </>
  );
}

/** The tenant's plan and what it allows, with what is used so far. */
export function PlanPanel({ plan, stackCount, simulationCount }: { plan: Plan; stackCount: number | undefined; simulationCount: number | undefined }) {
  return (
    <section className="panel" aria-labelledby="plan-heading">
      <h2 id="plan-heading">
        Plan: <span className="plan-name">{plan.name}</span>
      </h2>
      <dl className="limits">
        <div>
          <dt>Stacks</dt>
          <dd>
            <Usage used={stackCount} limit={plan.limits.maxStacks} noun="stacks" />
          </dd>
        </div>
        <div>
          <dt>Simulations</dt>
          <dd>
            <Usage used={simulationCount} limit={plan.limits.maxSimulations} noun="simulations" />
          </dd>
        </div>
        <div>
          <dt>Nodes per simulation</dt>
          <dd>up to {plan.limits.maxNodesPerSimulation}</dd>
        </div>
        <div>
          <dt>Requests</dt>
          <dd>{plan.limits.requestsPerMinute} per minute</dd>
        </div>
      </dl>
    </section>
  );
}
