import { describe, expect, it } from "vitest";
import { createMetricsRegistry, OperationMetrics, prometheusText, tracingOptions } from "@kombify/service-core/observability";
import { PrometheusScrape } from "@kombify/testkit";

describe("OperationMetrics", () => {
  it("labels operations by name up to the cap, then as other; anonymous ones as anonymous; odd names and codes never", async () => {
    const registry = createMetricsRegistry();
    const metrics = new OperationMetrics(registry, { maxOperationNames: 3 });
    for (const name of ["One", "Two", "Three", "Four", "Five"]) metrics.record(name, "OK", 0.002);
    metrics.record("One", "OK", 0.002);
    metrics.record(null, "OK", 0.002);
    metrics.record(undefined, "BAD_USER_INPUT", 0.002);
    metrics.record("x".repeat(81), "OK", 0.002);
    metrics.record("has space", "OK", 0.002);
    metrics.record("Two", "not a code", 0.002);

    const scrape = new PrometheusScrape(await prometheusText(registry));
    const operations = new Set(scrape.samples("kombify_graphql_requests_total").map((sample) => sample.labels!.operation));
    expect(operations).toEqual(new Set(["One", "Two", "Three", "other", "anonymous"]));
    expect(scrape.value("kombify_graphql_requests_total", { operation: "One", code: "OK" })).toBe(2);
    // Four and Five beyond the cap, a name too long, a name that is no GraphQL name.
    expect(scrape.value("kombify_graphql_requests_total", { operation: "other", code: "OK" })).toBe(4);
    expect(scrape.value("kombify_graphql_requests_total", { operation: "anonymous", code: "BAD_USER_INPUT" })).toBe(1);
    expect(scrape.value("kombify_graphql_requests_total", { operation: "Two", code: "OTHER" })).toBe(1);
    expect(scrape.count("kombify_graphql_request_duration_seconds", { operation: "One", code: "OK" })).toBe(2);
  });

  it("counts refusals by code, once per refused error, and ignores every other code", async () => {
    const registry = createMetricsRegistry();
    const metrics = new OperationMetrics(registry);
    metrics.recordResponse("Deploy", [{ message: "a", extensions: { code: "QUOTA_EXCEEDED" } }, { message: "b", extensions: { code: "PLAN_REQUIRED" } }], 0.01);
    metrics.recordResponse("Deploy", [{ message: "c", extensions: { code: "NOT_FOUND" } }], 0.01);
    metrics.refused("RATE_LIMITED");
    metrics.refused("FORBIDDEN");

    const scrape = new PrometheusScrape(await prometheusText(registry));
    expect(scrape.value("kombify_graphql_requests_total", { operation: "Deploy", code: "QUOTA_EXCEEDED" })).toBe(1);
    expect(scrape.value("kombify_graphql_requests_total", { operation: "Deploy", code: "NOT_FOUND" })).toBe(1);
    expect(Object.fromEntries(scrape.samples("kombify_refusals_total").map((sample) => [sample.labels!.code, Number(sample.value)]))).toEqual({
      RATE_LIMITED: 1,
      QUOTA_EXCEEDED: 1,
      PLAN_REQUIRED: 1,
    });
  });

  it("keeps each server's series apart while the process's own series are in every scrape", async () => {
    const first = createMetricsRegistry();
    const second = createMetricsRegistry();
    new OperationMetrics(first).record("OnlyFirst", "OK", 0.001);
    new OperationMetrics(second);
    const firstScrape = new PrometheusScrape(await prometheusText(first));
    const secondScrape = new PrometheusScrape(await prometheusText(second));
    expect(firstScrape.value("kombify_graphql_requests_total", { operation: "OnlyFirst", code: "OK" })).toBe(1);
    expect(secondScrape.samples("kombify_graphql_requests_total")).toEqual([]);
    for (const scrape of [firstScrape, secondScrape]) expect(scrape.families.get("process_cpu_user_seconds_total")?.type).toBe("COUNTER");
  });
});

describe("tracingOptions", () => {
  it("sets up no tracer without OTEL_EXPORTER_OTLP_ENDPOINT, and names the service unless OTEL_SERVICE_NAME does", () => {
    expect(tracingOptions({}, "gateway")).toBeNull();
    expect(tracingOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }, "subgraph-stack")).toEqual({ endpoint: "http://collector:4318", serviceName: "subgraph-stack" });
    expect(tracingOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SERVICE_NAME: "edge" }, "gateway")?.serviceName).toBe("edge");
  });
});
