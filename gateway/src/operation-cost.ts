import type { ApolloServerPlugin } from "@apollo/server";
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { ErrorCode } from "@kombify/service-core/errors";
import { CEILING_EXTENSION, type OperationCeilings } from "./operation-ceilings.js";

/**
 * What an answer may weigh before the operation is refused. The shape ceilings bound a document, not the
 * lists it multiplies: `stacks { jobs { stack { jobs { stack { jobs … } } } } }` is nine levels of a small
 * document and hundreds of thousands of objects. This estimates the values an answer can hold, as the IBM
 * cost specification's list-size rules do: a list field counts its slicing argument (`last`, `first`, `tail`,
 * `limit`: the value given, else the argument's default), any other list an assumed size, and each value
 * below it counts once per item.
 */
export type CostCeiling = Pick<OperationCeilings, "maxCost" | "assumedListSize">;

const SLICING_ARGUMENTS = ["last", "first", "tail", "limit"];
const INTROSPECTION_ROOTS = new Set(["__schema", "__type"]);
/** Far beyond any ceiling: the estimate stops growing here rather than overflowing. */
const COST_CAP = 1e15;

/** The estimated number of values the answer to `operation` can hold. */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  assumedListSize: number,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentCosts = new Map<string, number>();
  const entered = new Set<string>();

  function listSize(field: FieldNode, definition: GraphQLField<unknown, unknown>): number {
    for (const name of SLICING_ARGUMENTS) {
      const argument = definition.args.find((candidate) => candidate.name === name);
      if (!argument) continue;
      const given = field.arguments?.find((candidate) => candidate.name.value === name)?.value;
      const value =
        given?.kind === Kind.INT ? Number(given.value) : given?.kind === Kind.VARIABLE ? variables[given.name.value] : given ? undefined : argument.defaultValue;
      if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
    }
    return assumedListSize;
  }

  function fieldCost(field: FieldNode, parent: GraphQLNamedType): number {
    const name = field.name.value;
    if (name === "__typename" || INTROSPECTION_ROOTS.has(name)) return 1;
    if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
    const definition = parent.getFields()[name];
    if (!definition) return 0;
    let multiplier = 1;
    let type = getNullableType(definition.type);
    let outermost = true;
    while (isListType(type)) {
      multiplier *= outermost ? listSize(field, definition) : assumedListSize;
      outermost = false;
      type = getNullableType(type.ofType);
    }
    const named = getNamedType(type);
    const below = field.selectionSet && isCompositeType(named) ? selectionSetCost(field.selectionSet, named) : 0;
    return Math.min(COST_CAP, multiplier * (1 + below));
  }

  function selectionSetCost(set: SelectionSetNode, parent: GraphQLNamedType): number {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) total += fieldCost(selection, parent);
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (condition) total += selectionSetCost(selection.selectionSet, condition);
      } else total += fragmentCost(selection.name.value);
      if (total >= COST_CAP) return COST_CAP;
    }
    return total;
  }

  function fragmentCost(name: string): number {
    const known = fragmentCosts.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    const condition = fragment && schema.getType(fragment.typeCondition.name.value);
    if (!fragment || !condition || entered.has(name)) return 0;
    entered.add(name);
    const cost = selectionSetCost(fragment.selectionSet, condition);
    entered.delete(name);
    fragmentCosts.set(name, cost);
    return cost;
  }

  const root = schema.getRootType(operation.operation);
  return root ? selectionSetCost(operation.selectionSet, root) : 0;
}

/** The refusal an operation earns by its estimated cost, if any. */
export function costRefusal(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  ceiling: CostCeiling,
): GraphQLError | null {
  const cost = estimateCost(schema, document, operation, variables, ceiling.assumedListSize);
  if (cost <= ceiling.maxCost) return null;
  const shown = cost >= COST_CAP ? "more than 10^15" : String(Math.round(cost));
  return new GraphQLError(
    `The operation is too costly: its answer could hold ${shown} values, at most ${ceiling.maxCost} allowed (maxCost). Ask for shorter lists (last, tail) or fewer nested ones.`,
    { extensions: { code: ErrorCode.BAD_USER_INPUT, [CEILING_EXTENSION]: "maxCost", limit: ceiling.maxCost, cost: Math.min(cost, COST_CAP) } },
  );
}

/** Apollo: variables are known only once the operation is resolved, before execution (and so before planning). */
export function refuseCostlyOperations<Context extends object>(ceiling: CostCeiling): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const refusal = costRefusal(schema, document, operation, request.variables ?? {}, ceiling);
          if (refusal) throw new GraphQLError(refusal.message, { extensions: { ...refusal.extensions, http: { status: 400 } } });
        },
      };
    },
  };
}
