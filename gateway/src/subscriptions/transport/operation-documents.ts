import { ApolloServerErrorCode } from "@apollo/server/errors";
import {
  GraphQLError,
  getOperationAST,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from "graphql";
import { LRUCache } from "lru-cache";
import { ErrorCode } from "@kombify/service-core/errors";
import { nulInOperation } from "../../input-strings.js";
import type { Caller } from "@kombify/service-core/auth";
import { costOf, uniformCostPolicy, type CostPolicy } from "../../operation-cost.js";
import { CEILING_EXTENSION, operationCeilingsRule, type OperationCeilings } from "../../operation-ceilings.js";
import { MAX_OPERATION_TOKENS, MAX_REUSED_OPERATION_CHARS, MAX_REUSED_OPERATIONS_CHARS } from "../../operation-limits.js";
import type { PersistedDocuments } from "../../http/persisted-documents.js";

/** What a socket's operations are held to, as Apollo holds HTTP ones. */
export interface DocumentValidation {
  ceilings: OperationCeilings;
  /** The cost estimate and each caller's ceiling (its plan's); without it, `ceilings.maxCost` for everyone. */
  cost?: CostPolicy;
  /** false: `__schema`/`__type` are refused and errors suggest no field names. */
  introspection: boolean;
  /** Registered documents: run by hash (`extensions.persistedQuery`), and with the safelist the only ones that run. */
  persistedDocuments?: PersistedDocuments;
}

const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === "__schema" || node.name.value === "__type") {
      context.reportError(new GraphQLError("Introspection is disabled on this gateway.", { nodes: [node], extensions: { code: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED } }));
    }
  },
});

/** What a graphql-ws `subscribe` message carries. */
export interface OperationRequest {
  query?: unknown;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  extensions?: Record<string, unknown> | null;
}

/** What the operation runs with: graphql-ws adds the schema's roots and the context. */
export interface PreparedOperation {
  document: DocumentNode;
  operationName: string | undefined;
  variableValues: Record<string, unknown>;
}

const refusal = (message: string, code: string, from?: GraphQLError, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { nodes: from?.nodes, source: from?.source, positions: from?.positions, extensions: { code, ...extensions } });

/** As Apollo's hideSchemaDetailsFromClientErrors words it: no field names the client did not already know. */
const withoutSuggestions = (message: string) => message.replace(/ ?Did you mean(.+?)\?$/, "");

/**
 * The operations sent over WebSockets, parsed and validated once per distinct text. Thousands of subscribers
 * send the same few operations (a subscribe storm after a deploy or a reconnect), and every subscription keeps
 * its document for its lifetime: one shared document per text saves the parse, the validation and the AST per
 * subscription. Kept by size, least recently used first; a long text is parsed each time instead, since its
 * document can weigh a hundred times its text.
 *
 * Anything wrong is refused for that operation alone, with the codes Apollo gives over HTTP (graphql-ws itself
 * would close the whole connection on a syntax error, and would let badly typed variables through to fail
 * upstream as internal errors).
 */
export class OperationDocuments {
  private readonly documents = new LRUCache<string, DocumentNode | readonly GraphQLError[]>({
    maxSize: MAX_REUSED_OPERATIONS_CHARS,
    maxEntrySize: MAX_REUSED_OPERATION_CHARS,
    // At least 1: lru-cache refuses a size of 0 (an empty query).
    sizeCalculation: (_document, text) => Math.max(1, text.length),
  });

  private readonly rules: readonly ValidationRule[];

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly validation: DocumentValidation,
  ) {
    this.rules = [...specifiedRules, ...(validation.introspection ? [] : [noIntrospection]), operationCeilingsRule(validation.ceilings)];
  }

  /** The operation ready to run, or the coded errors it is refused with. */
  prepare(request: OperationRequest): PreparedOperation | readonly GraphQLError[] {
    const persisted = this.validation.persistedDocuments?.resolve(request);
    if (persisted?.errors) return persisted.errors;
    if (persisted) request = { ...request, query: persisted.query };
    if (typeof request.query !== "string") return [refusal("The operation's query must be a string.", ApolloServerErrorCode.BAD_REQUEST)];
    const document = this.document(request.query);
    if (!("kind" in document)) return document;
    const operationName = request.operationName || undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      const message = operationName ? `No operation named "${operationName}" in the document.` : "The document has several operations: name the one to run (operationName).";
      return [refusal(message, ApolloServerErrorCode.BAD_REQUEST)];
    }
    const coerced = getVariableValues(this.schema, operation.variableDefinitions ?? [], request.variables ?? {}, { maxErrors: 20 });
    if (coerced.errors) return coerced.errors.map((error) => refusal(error.message, ApolloServerErrorCode.BAD_USER_INPUT, error));
    const nul = nulInOperation(request.query, document, coerced.coerced);
    if (nul) return [nul];
    // The coerced values, not the client's: defaults filled in and undeclared ones dropped, so equal subscriptions
    // share one group (and a client cannot park large unused variables in the gateway).
    return { document, operationName, variableValues: coerced.coerced };
  }

  /** COST_LIMIT_EXCEEDED when the prepared operation costs more than `caller`'s plan allows, else null. */
  costRefusal(prepared: PreparedOperation, caller: Caller): GraphQLError | null {
    const operation = getOperationAST(prepared.document, prepared.operationName);
    const policy = this.validation.cost ?? uniformCostPolicy(this.validation.ceilings);
    return operation ? costOf(this.schema, prepared.document, operation, prepared.variableValues, policy, caller).refusal : null;
  }

  private document(text: string): DocumentNode | readonly GraphQLError[] {
    let document = this.documents.get(text);
    if (!document) {
      document = this.parseAndValidate(text);
      this.documents.set(text, document);
    }
    return document;
  }

  private parseAndValidate(text: string): DocumentNode | readonly GraphQLError[] {
    let document: DocumentNode;
    try {
      document = parse(text, { maxTokens: MAX_OPERATION_TOKENS });
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return [refusal(error.message, ApolloServerErrorCode.GRAPHQL_PARSE_FAILED, error)];
    }
    const errors = validate(this.schema, document, this.rules);
    if (errors.length === 0) return document;
    return errors.map((error) =>
      error.extensions[CEILING_EXTENSION]
        ? refusal(error.message, ErrorCode.BAD_USER_INPUT, error, { [CEILING_EXTENSION]: error.extensions[CEILING_EXTENSION], limit: error.extensions.limit })
        : refusal(this.validation.introspection ? error.message : withoutSuggestions(error.message), ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED, error),
    );
  }
}
