import { ApolloServerErrorCode } from "@apollo/server/errors";
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from "graphql";

/**
 * The operations sent over WebSockets, parsed and validated once per distinct text. Thousands of subscribers
 * send the same few operations (a subscribe storm after a deploy or a reconnect), and every subscription keeps
 * its document for its lifetime: one shared document per text saves the parse, the validation and the AST per
 * subscription. An operation that does not parse or validate is refused with Apollo's codes, like over HTTP,
 * for that operation alone (graphql-ws itself would close the whole connection on a syntax error).
 */
export class OperationDocuments {
  private readonly prepared = new Map<string, DocumentNode | readonly GraphQLError[]>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly maxEntries = 1000,
  ) {}

  /** The operation's document, or the errors it is refused with. */
  prepare(query: unknown): DocumentNode | readonly GraphQLError[] {
    if (typeof query !== "string") return [new GraphQLError("The operation's query must be a string.", { extensions: { code: ApolloServerErrorCode.BAD_REQUEST } })];
    let result = this.prepared.get(query);
    if (result) return result;
    result = this.parseAndValidate(query);
    // Plain bound, not LRU: clients use a handful of operations; anything beyond is churn not worth keeping.
    if (this.prepared.size >= this.maxEntries) this.prepared.clear();
    this.prepared.set(query, result);
    return result;
  }

  private parseAndValidate(query: string): DocumentNode | readonly GraphQLError[] {
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return [new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { code: ApolloServerErrorCode.GRAPHQL_PARSE_FAILED } })];
    }
    const errors = validate(this.schema, document);
    if (errors.length === 0) return document;
    return errors.map(
      (error) => new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { code: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED } }),
    );
  }
}
