import Stripe from "stripe";
import { AppError, errors } from "@kombify/service-core/errors";
import type { Logger } from "@kombify/service-core/logging";

/**
 * A failed Stripe API call as the caller's answer, never INTERNAL: a request Stripe refused for what was asked
 * (invalid request, card) is BAD_USER_INPUT on `field` when the caller chose something (a tier); anything else
 * (Stripe down or slow, our key refused, rate limits, a refusal of what we alone chose) is UNAVAILABLE.
 * Errors that are not Stripe's pass through unchanged.
 */
export function stripeFailure(error: unknown, what: string, log: Logger, field?: string): unknown {
  if (error instanceof AppError || !(error instanceof Stripe.errors.StripeError)) return error;
  log.warn({ stripeError: { type: error.type, code: error.code, status: error.statusCode, requestId: error.requestId, param: error.param, message: error.message } }, `Stripe refused ${what}`);
  const refusedInput = error instanceof Stripe.errors.StripeInvalidRequestError || error instanceof Stripe.errors.StripeCardError;
  if (refusedInput && field) return errors.badInput(field, `Stripe refused ${what}: ${error.message}`);
  if (error instanceof Stripe.errors.StripeAuthenticationError || error instanceof Stripe.errors.StripePermissionError) {
    return errors.unavailable(`Billing is misconfigured on this deployment (Stripe refused its key), so ${what} is unavailable.`);
  }
  if (error instanceof Stripe.errors.StripeConnectionError) return errors.unavailable(`Stripe could not be reached for ${what}; retry in a moment.`);
  return errors.unavailable(`Stripe could not complete ${what} (${error.message}); retry in a moment.`);
}
