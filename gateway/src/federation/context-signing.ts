import { TENANT_CONTEXT_LIFETIME_SECONDS, type OperationHash, type TenantContextSigner } from "@kombify/service-core/tenant-context";
import type { GatewayContext } from "../gateway-context.js";

/**
 * The one place tenant contexts are signed, for HTTP fetches and subscriptions alike: each for one subgraph
 * and the one operation text it runs, so a context taken from one request is good for nothing else.
 *
 * Reuse policy: a context that holds `signedContexts` (a subscription group's, resolving event after event)
 * reuses a token per subgraph and operation until half its lifetime has passed; any other is signed afresh,
 * with the fetch's traceparent when tracing is on (a reused one names no one fetch's span, so carries none).
 */
export async function signTenantContext(
  signer: TenantContextSigner,
  context: GatewayContext,
  subgraph: string,
  operation: OperationHash,
  traceparent?: string,
): Promise<string> {
  const held = context.signedContexts;
  if (!held) return signer.sign(context.caller, context.requestId, subgraph, operation, traceparent, context.clientAddress);
  const key = `${subgraph}\n${operation}`;
  const now = Date.now();
  const reusable = held.get(key);
  if (reusable && reusable.renewAt > now) return reusable.token;
  const token = await signer.sign(context.caller, context.requestId, subgraph, operation, undefined, context.clientAddress);
  held.set(key, { token, renewAt: now + (TENANT_CONTEXT_LIFETIME_SECONDS * 1000) / 2 });
  return token;
}
