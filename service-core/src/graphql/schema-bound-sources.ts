import type { GraphQLResolveInfo, GraphQLSchema } from "graphql";
import { errors } from "../errors/app-error.js";

/**
 * What a type-graphql `@Subscription({ subscribe })` streams from, per built schema: its `subscribe` sees the
 * schema (`info.schema`), not the resolver instance, so a subgraph binds the source to the schema it built.
 */
export class SchemaBoundSources<T> {
  private readonly sources = new WeakMap<GraphQLSchema, T>();

  /** @param what What the source streams, plural, for the error when none is bound ("Job updates"). */
  constructor(private readonly what: string) {}

  bind(schema: GraphQLSchema, source: T): void {
    this.sources.set(schema, source);
  }

  of(info: GraphQLResolveInfo): T {
    const source = this.sources.get(info.schema);
    if (!source) throw errors.unavailable(`${this.what} are not available on this server.`);
    return source;
  }
}
