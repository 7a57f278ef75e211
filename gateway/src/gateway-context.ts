import type { Caller, Logger } from "@kombify/service-core";

/** Per request: who is calling (verified), the request id, and a logger bound to it. */
export interface GatewayContext {
  caller: Caller;
  requestId: string;
  log: Logger;
}
