import "reflect-metadata";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { DateTimeResolver } from "graphql-scalars";
import { parse, type GraphQLSchema } from "graphql";
import { buildSchema, createResolversMap, getMetadataStorage, type ContainerType, type NonEmptyArray } from "type-graphql";
import { authChecker } from "../auth/authorization.js";

/** The one place that pins the Federation version and the directives our subgraphs may use. */
export const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible", "@cost", "@listSize"])';

export interface ReferenceResolvers {
  [typeName: string]: { __resolveReference: (reference: any, context: any, info: any) => unknown };
}

export interface SubgraphSchemaOptions {
  resolvers: NonEmptyArray<Function>;
  /** Entity types that no query returns directly (stubs of entities owned elsewhere, for instance). */
  orphanedTypes?: Function[];
  referenceResolvers?: ReferenceResolvers;
  /** Hands type-graphql the resolver instances, constructed with their dependencies. */
  container?: ContainerType;
}

export interface BuiltSubgraph {
  schema: GraphQLSchema;
  /** The subgraph SDL as composition sees it: type-graphql's output behind the Federation 2 @link. */
  sdl: string;
}

/**
 * Our subscriptions are fed by their stores' own change streams through each `@Subscription({ subscribe })`,
 * never by topics; type-graphql insists on a PubSub, so it gets one that refuses topic use loudly.
 */
const noTopicPubSub = {
  publish(): never {
    throw new Error("Topic-based publishing is not used: subscriptions supply their own `subscribe`.");
  },
  subscribe(): never {
    throw new Error("Topic-based subscriptions are not used: give the @Subscription a `subscribe` function.");
  },
};

/**
 * Turns type-graphql resolvers into an Apollo Federation 2 subgraph schema: build with type-graphql,
 * print with directives (so @key survives), prepend the @link, rebuild with @apollo/subgraph, and
 * attach type-graphql's resolvers plus the entities' __resolveReference functions. Every subgraph
 * gets the one shared auth checker behind `@Authorized`.
 */
export async function buildFederatedSubgraph(options: SubgraphSchemaOptions): Promise<BuiltSubgraph> {
  // Parameter decorators run right to left; order arguments as written so the SDL reads like the code.
  getMetadataStorage().params.sort((a, b) => a.index - b.index);
  const typeGraphqlSchema = await buildSchema({
    resolvers: options.resolvers,
    orphanedTypes: options.orphanedTypes,
    authChecker,
    container: options.container,
    authMode: "error",
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    pubSub: noTopicPubSub,
    validate: false,
    skipCheck: true,
  });
  const sdl = `${FEDERATION_LINK}\n\n${printSchemaWithDirectives(typeGraphqlSchema)}\n`;
  const resolvers = createResolversMap(typeGraphqlSchema) as Record<string, any>;
  for (const [typeName, reference] of Object.entries(options.referenceResolvers ?? {})) {
    resolvers[typeName] = { ...resolvers[typeName], ...reference };
  }
  const schema = buildSubgraphSchema({ typeDefs: parse(sdl), resolvers });
  return { schema, sdl };
}

/** A type-graphql container over resolver instances built with their dependencies. */
export function resolverContainer(instances: object[]): ContainerType {
  const byClass = new Map<Function, object>(instances.map((instance) => [instance.constructor, instance]));
  return {
    get(someClass: Function) {
      const instance = byClass.get(someClass);
      if (!instance) throw new Error(`No resolver instance registered for ${someClass.name}`);
      return instance;
    },
  };
}

/**
 * A stand-in for dependencies when only the schema is built (composition): it may be passed around and
 * stored, but calling anything on it throws, because building a schema must not touch a store.
 */
export function inertDependency<T>(path = "dependency"): T {
  const fail = () => {
    throw new Error(`${path} was used while only building the schema`);
  };
  return new Proxy(fail, {
    get: (_target, property) => (property === "then" ? undefined : inertDependency(`${path}.${String(property)}`)),
    apply: fail,
    construct: fail,
  }) as T;
}
