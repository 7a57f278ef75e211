import { fetch } from "undici"; // not the global fetch, which loads a second undici (see SubgraphClient)
import type { ApolloServerPlugin } from "@apollo/server";
import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from "graphql";
import { AppError, ErrorCode } from "@kombify/service-core/errors";
import { REQUEST_ID_HEADER } from "@kombify/service-core/http";
import { operationHash, TENANT_CONTEXT_HEADER, type TenantContextSigner } from "@kombify/service-core/tenant-context";
import { signTenantContext } from "../federation/context-signing.js";
import type { GatewayContext } from "../gateway-context.js";
import type { TenantResolver } from "./tenant-resolver.js";

/** Root mutation fields that need the caller's organisation to have a tenant, made on first use. */
const ENROLLING_FIELDS = new Set(["launchHomelab"]);
const ENROL = "mutation EnrolOrganisation { enrolOrganisation { id } }";
const ENROL_HASH = operationHash(ENROL);

export interface TenantEnrolmentOptions {
  /** The tenant subgraph's GraphQL endpoint (as in SUBGRAPH_TENANT_URL). */
  tenantSubgraphUrl: string;
  signer: TenantContextSigner;
  tenants: TenantResolver;
  timeoutMs: number;
}

/**
 * An organisation's first homelab launch creates its tenant. Tenants are the tenant subgraph's alone, so the
 * gateway asks it (its gateway-only `enrolOrganisation`, with a context signed for it) before planning the
 * launch, then reads the new tenant from the directory like any other: the identity subgraph that runs the
 * launch receives a context that already names the tenant and its plan. Over HTTP and the socket alike (socket
 * operations run through the same Apollo server).
 */
export function tenantEnrolment(options: TenantEnrolmentOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        // Not in didResolveOperation: Apollo runs those hooks side by side, so a tenant would be made for an
        // operation another hook then refuses (a ceiling, a NUL). This runs once every check has passed, just
        // before execution.
        async responseForOperation({ operation, document, contextValue, request, response }) {
          const caller = contextValue.caller;
          if (caller.kind !== "user" || !caller.orgId || caller.tenant || operation.operation !== "mutation") return null;
          if (!selectsRootField(operation, document, request.variables ?? {}, ENROLLING_FIELDS)) return null;
          try {
            await enrol(options, contextValue);
            const tenant = await options.tenants.byOrganisation(caller.orgId);
            if (!tenant) throw unavailable("Your organisation's tenant was created but cannot be read yet; retry in a moment.");
            contextValue.caller = { ...caller, tenant };
            return null;
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            // An answer instead of a throw: Apollo answers anything thrown from this hook as a bare 500.
            response.http.status = error.code === ErrorCode.UNAVAILABLE ? 503 : 200;
            return { http: response.http, body: { kind: "single", singleResult: { errors: [{ message: error.message, extensions: { ...error.extensions, code: error.code } }] } } };
          }
        },
      };
    },
  };
}

async function enrol(options: TenantEnrolmentOptions, context: GatewayContext): Promise<void> {
  let body: { errors?: { message?: string; extensions?: { code?: unknown; retryAfter?: unknown } }[] };
  try {
    const response = await fetch(options.tenantSubgraphUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [REQUEST_ID_HEADER]: context.requestId,
        [TENANT_CONTEXT_HEADER]: await signTenantContext(options.signer, context, "tenant", ENROL_HASH),
      },
      body: JSON.stringify({ query: ENROL }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    body = (await response.json()) as typeof body;
    if (!response.ok && !body.errors) throw new Error(`enrolOrganisation answered ${response.status}`);
  } catch (error) {
    context.log.warn({ err: error }, "the tenant subgraph did not answer enrolOrganisation");
    throw unavailable("The tenant service is unavailable, so your organisation's tenant cannot be created; retry in a moment.");
  }
  const refusal = body.errors?.[0];
  if (!refusal) return;
  // The tenant subgraph's refusal of the organisation (no instance has room, too many at once) is the caller's
  // answer, code and all; one of the gateway's own context (UNAUTHENTICATED, FORBIDDEN) is not about the caller.
  const code = refusal.extensions?.code;
  const message = refusal.message ?? "Your organisation's tenant could not be created.";
  if (code === ErrorCode.UNAVAILABLE) throw unavailable(message);
  // A rate limit's retry hint goes with it.
  const retryAfter = refusal.extensions?.retryAfter;
  if (isErrorCode(code) && CALLERS_CODES.has(code)) throw new AppError(code, message, typeof retryAfter === "number" ? { retryAfter } : {});
  context.log.error({ refusal }, "enrolOrganisation failed");
  throw new AppError(ErrorCode.INTERNAL, "Your organisation's tenant could not be created. Quote the request id when you report it.");
}

const CODES: ReadonlySet<unknown> = new Set(Object.values(ErrorCode));
const isErrorCode = (code: unknown): code is ErrorCode => CODES.has(code);
const CALLERS_CODES: ReadonlySet<ErrorCode> = new Set([ErrorCode.BAD_USER_INPUT, ErrorCode.CONFLICT, ErrorCode.RATE_LIMITED, ErrorCode.QUOTA_EXCEEDED]);

function unavailable(message: string): AppError {
  return new AppError(ErrorCode.UNAVAILABLE, message);
}

/** Whether the node runs with these variables: its @skip and @include say so. */
function included(node: SelectionNode, variables: Record<string, unknown>): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

/** Whether the operation's root selection (fragments included, @skip and @include honoured) runs one of `fields`. */
function selectsRootField(operation: OperationDefinitionNode, document: DocumentNode, variables: Record<string, unknown>, fields: ReadonlySet<string>): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const seen = new Set<string>();
  const visit = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.some((selection) => {
      if (!included(selection, variables)) return false;
      if (selection.kind === Kind.FIELD) return fields.has(selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      const name = selection.name.value;
      if (seen.has(name)) return false;
      seen.add(name);
      const fragment = fragments.get(name);
      return fragment ? visit(fragment.selectionSet) : false;
    });
  return visit(operation.selectionSet);
}
