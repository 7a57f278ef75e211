import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { SubscriptionPlanner } from "../src/subscriptions/core/subscription-planner.js";
import { SupergraphPlanner } from "../src/federation/supergraph-planner.js";

const supergraph = readFileSync(new URL("../../schema/supergraph.graphql", import.meta.url), "utf8");

describe("SubscriptionPlanner", () => {
  it("plans the owning subgraph's stream and the other subgraphs' fetches, once per operation text", () => {
    const planner = new SubscriptionPlanner(new SupergraphPlanner(supergraph));
    const text = "subscription($jobId: ID) { jobUpdated(jobId: $jobId) { id stack { name stackKit { name } } } }";
    const plan = planner.plan(parse(text), undefined);
    expect(plan.primary.serviceName).toBe("stack");
    expect(JSON.stringify(plan.rest)).toContain("stackkit");
    expect(plan.primaryVariables({ jobId: "j", other: 1 })).toEqual({ jobId: "j" });
    expect(planner.plan(parse(text), undefined)).toBe(plan);
  });

  it("keeps no trace of the text as the client sent it: a kept plan holds a document without locations", () => {
    const planner = new SubscriptionPlanner(new SupergraphPlanner(supergraph));
    const padded = `subscription { jobUpdated { id } }${" ".repeat(100_000)}`;
    const plan = planner.plan(parse(padded), undefined);
    expect(plan.text.length).toBeLessThan(100);
    expect(plan.prepared.context.operation.loc).toBeUndefined();
  });
});
