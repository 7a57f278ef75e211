import { Supergraph, type Schema } from "@apollo/federation-internals";
import { QueryPlanner } from "@apollo/query-planner";
import type { GraphQLSchema } from "graphql";

/**
 * The served supergraph, built once per process: its schemas and the one query planner that plans queries,
 * mutations and subscriptions alike (a planner holds the whole supergraph; two would hold it twice).
 */
export class SupergraphPlanner {
  /** With federation's join directives and @inaccessible elements: what entity representations are read against. */
  readonly supergraphSchema: GraphQLSchema;
  /** What clients see, in federation-internals' form (operations are built against it). */
  readonly apiSchema: Schema;
  /** What clients see, as graphql-js: validation, variables and introspection. */
  readonly apiGraphQLSchema: GraphQLSchema;
  readonly planner: QueryPlanner;

  constructor(supergraphSdl: string) {
    const supergraph = Supergraph.build(supergraphSdl);
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.apiSchema = supergraph.apiSchema();
    this.apiGraphQLSchema = this.apiSchema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(supergraph);
  }
}
