import type { FormattedExecutionResult } from "graphql";

export type UpstreamResult = FormattedExecutionResult<Record<string, unknown>, unknown>;

export interface UpstreamSink {
  next(result: UpstreamResult): void;
  error(error: unknown): void;
  complete(): void;
}

/** One subscription as the owning subgraph receives it, with the signed tenant context in `extensions`. */
export interface UpstreamRequest {
  query: string;
  variables: Record<string, unknown>;
  extensions: Record<string, unknown>;
}

/**
 * Where the hub's subscriptions to the subgraphs go, so the hub depends on no transport: graphql-ws today
 * (`upstream/upstream-subscriptions.ts`), a test double or another protocol tomorrow.
 */
export interface UpstreamSource {
  /** Upstream subscriptions open now, for /metrics and tests. */
  readonly count: number;
  /** Starts the subscription; the returned function stops it (idempotent, and a no-op once it has ended). */
  subscribe(subgraph: string, request: UpstreamRequest, sink: UpstreamSink): () => void;
}
