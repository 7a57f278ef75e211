import type { Logger } from "@kombify/service-core/logging";
import type { Caller } from "@kombify/service-core/auth";

/** Per request: who is calling (verified), the request id, and a logger bound to it. */
export interface GatewayContext {
  caller: Caller;
  requestId: string;
  log: Logger;
  /** The client's address as rate limits count it (an IPv6 one by its /64), signed into the contexts for subgraphs. */
  clientAddress?: string;
  /**
   * Signed tenant contexts by subgraph and operation hash (a context is bound to one operation), reused while
   * they have half their life left, for a context that outlives a request: a subscription group's, whose every
   * event fetches other subgraphs' fields with the same few operations, and for which signing would cost more
   * than the rest of the fetch. Absent for requests, which sign per fetch.
   */
  signedContexts?: Map<string, { token: string; renewAt: number }>;
}
