import { KombifyApiError, type KombifyGraphQLError } from "./kombify-error.js";
import type { Operation } from "./operations.js";

export interface KombifyClientOptions {
  /** The graph's URL, e.g. https://api.kombify.io/graphql or http://localhost:4000/graphql. */
  url: string;
  /** The Zitadel access token, or a function that returns a fresh one for each request. */
  token?: string | (() => string | Promise<string>);
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Sends typed operations to the kombify supergraph; throws KombifyApiError with codes on any GraphQL error. */
export class KombifyClient {
  constructor(private readonly options: KombifyClientOptions) {}

  async request<TData, TVariables extends Record<string, unknown>>(
    operation: Operation<TData, TVariables>,
    ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
  ): Promise<TData> {
    const token = typeof this.options.token === "function" ? await this.options.token() : this.options.token;
    const response = await (this.options.fetch ?? fetch)(this.options.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: operation.document, variables: variables ?? {} }),
    });
    const requestId = response.headers.get("x-request-id");
    let body: { data?: TData | null; errors?: KombifyGraphQLError[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new KombifyApiError([{ message: `The graph answered ${response.status} without a GraphQL body.`, extensions: { code: "UNAVAILABLE" } }], response.status, requestId, null);
    }
    if (body.errors?.length) throw new KombifyApiError(body.errors, response.status, requestId, body.data ?? null);
    return body.data as TData;
  }
}
