import Stripe from "stripe";
import { HttpError, readBody, sendJson } from "@kombify/service-core/http";
import type { RouteHandler } from "@kombify/service-core/server";
import { UnknownPriceError, type StripeEventProcessor } from "./stripe-event-processor.js";

/** Stripe's own default, and what its retries are signed for: a signature older than this is refused. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Stripe's events are a few kilobytes; an object with long lists stays far below this. */
export const MAX_WEBHOOK_BYTES = 512 * 1024;

/**
 * POST /webhooks/stripe. The signature is checked over the body exactly as it arrived (Stripe signs bytes, not
 * JSON), then the event is applied in one transaction. 200 for an event applied, seen before or not ours; 400 for
 * a missing, forged or stale signature (nothing changes); 413 for a body over the limit; 500 when applying failed
 * (nothing changed, and Stripe retries); 503 without STRIPE_WEBHOOK_SECRET.
 */
export function stripeWebhookRoute(secret: string | undefined, processor: StripeEventProcessor): RouteHandler {
  return async (req, res, log) => {
    if (!secret) {
      return sendJson(res, 503, { error: "UNAVAILABLE", message: "Stripe webhooks are not configured on this deployment (STRIPE_WEBHOOK_SECRET is not set)." });
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_WEBHOOK_BYTES);
    } catch (error) {
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.code, message: error.message });
      throw error;
    }
    const signature = req.headers["stripe-signature"];
    if (typeof signature !== "string" || signature.length === 0) {
      return sendJson(res, 400, { error: "BAD_REQUEST", message: "The Stripe-Signature header is missing." });
    }
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(body, signature, secret, SIGNATURE_TOLERANCE_SECONDS);
    } catch (error) {
      log.warn({ reason: error instanceof Error ? error.message : String(error) }, "refused a Stripe webhook whose signature does not verify");
      return sendJson(res, 400, { error: "BAD_REQUEST", message: "The Stripe signature does not verify (wrong secret, altered body or older than 300 s)." });
    }
    const eventLog = log.child({ stripeEvent: event.id, stripeEventType: event.type });
    try {
      const outcome = await processor.process(event);
      if (outcome === "unhandled") eventLog.info("acknowledged a Stripe event billing does not act on");
      else if (outcome === "unknown-tenant") eventLog.warn("acknowledged a Stripe event for a customer or subscription of no kombify tenant");
      else eventLog.debug({ outcome }, "Stripe event processed");
      return sendJson(res, 200, { received: true, outcome });
    } catch (error) {
      if (error instanceof UnknownPriceError) eventLog.error({ reason: error.message }, "cannot apply a Stripe event yet; Stripe will retry it");
      else eventLog.error({ err: error }, "applying a Stripe event failed; nothing of it was kept, and Stripe will retry it");
      return sendJson(res, 500, { error: "INTERNAL", message: "The event could not be applied; it will be retried." });
    }
  };
}
