import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the Stripe SDK sent: its form-encoded parameters flattened (`line_items[0][price]`). */
export interface StripeStandInRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  headers: IncomingMessage["headers"];
}

/** An answer the stand-in gives instead of its own, once, for a path: Stripe's error shape when `status` >= 400. */
export interface StripeStandInAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface StripeStandIn {
  /** For STRIPE_API_URL. */
  url: string;
  /** The secret key it accepts (others get Stripe's 401). */
  secretKey: string;
  /** Every request received, oldest first; only those to `path` when given. */
  requests(path?: string): StripeStandInRequest[];
  /** The next request to `path` gets this answer instead. */
  answerNext(path: string, answer: StripeStandInAnswer): void;
  stop(): Promise<void>;
}

/**
 * A small local stand-in for Stripe's API (Stripe is not reachable from tests): customers, Checkout Sessions and
 * billing portal sessions, answered in Stripe's shapes, with every request kept for the test to check. Like
 * Stripe, it answers a repeated Idempotency-Key with the first answer. `latencyMs` slows customer creation, to
 * widen the window concurrent callers race in.
 */
export async function startStripeStandIn(options: { secretKey?: string; latencyMs?: number } = {}): Promise<StripeStandIn> {
  const secretKey = options.secretKey ?? "sk_test_kombify_stand_in";
  const received: StripeStandInRequest[] = [];
  const overrides = new Map<string, StripeStandInAnswer[]>();
  const idempotent = new Map<string, StripeStandInAnswer>();
  let sequence = 0;
  const nextId = (prefix: string) => `${prefix}_standin${String(++sequence).padStart(6, "0")}`;

  const answer = async (request: StripeStandInRequest): Promise<StripeStandInAnswer> => {
    const override = overrides.get(request.path)?.shift();
    if (override) return override;
    const metadata = metadataOf(request.params);
    const now = Math.floor(Date.now() / 1000);
    if (request.method === "POST" && request.path === "/v1/customers") {
      if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
      return ok({ id: nextId("cus"), object: "customer", created: now, name: request.params.name ?? null, email: request.params.email ?? null, metadata });
    }
    if (request.method === "POST" && request.path === "/v1/checkout/sessions") {
      const id = nextId("cs_test");
      return ok({
        id,
        object: "checkout.session",
        mode: request.params.mode,
        customer: request.params.customer ?? null,
        client_reference_id: request.params.client_reference_id ?? null,
        metadata,
        status: "open",
        success_url: request.params.success_url,
        cancel_url: request.params.cancel_url,
        subscription: null,
        created: now,
        expires_at: now + 24 * 3600,
        url: `https://checkout.stripe.test/c/pay/${id}`,
      });
    }
    if (request.method === "POST" && request.path === "/v1/billing_portal/sessions") {
      const id = nextId("bps");
      return ok({ id, object: "billing_portal.session", customer: request.params.customer, return_url: request.params.return_url ?? null, created: now, url: `https://billing.stripe.test/p/session/${id}` });
    }
    return { status: 404, body: stripeError("invalid_request_error", `Unrecognized request URL (${request.method}: ${request.path}).`) };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: StripeStandInRequest = {
        method: req.method ?? "GET",
        path: new URL(req.url ?? "/", "http://stand-in").pathname,
        params: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))),
        headers: req.headers,
      };
      received.push(request);
      const respond = ({ status, body }: StripeStandInAnswer) => {
        res.writeHead(status, { "content-type": "application/json", "request-id": `req_${sequence}` });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${secretKey}`) {
        return respond({ status: 401, body: stripeError("invalid_request_error", "Invalid API Key provided.") });
      }
      const key = req.headers["idempotency-key"];
      const remembered = typeof key === "string" ? idempotent.get(`${request.path} ${key}`) : undefined;
      if (remembered) return respond(remembered);
      void answer(request).then((result) => {
        if (typeof key === "string" && result.status < 500) idempotent.set(`${request.path} ${key}`, result);
        respond(result);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secretKey,
    requests: (path) => received.filter((request) => path === undefined || request.path === path),
    answerNext(path, result) {
      overrides.set(path, [...(overrides.get(path) ?? []), result]);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Stripe's error body. */
export function stripeError(type: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { error: { type, message, ...extra } };
}

function ok(body: Record<string, unknown>): StripeStandInAnswer {
  return { status: 200, body };
}

function metadataOf(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(params)
      .filter(([key]) => /^metadata\[[^\]]+\]$/.test(key))
      .map(([key, value]) => [key.slice("metadata[".length, -1), value]),
  );
}
