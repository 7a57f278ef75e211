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
import { getVariableValues, parse, type ConstDirectiveNode } from "graphql";
import type { Caller } from "@kombify/service-core/auth";
import { ErrorCode } from "@kombify/service-core/errors";
import type { OperationCeilings } from "./operation-ceilings.js";

/**
 * What an answer may weigh before the operation is refused. The shape ceilings bound a document, not the
 * lists it multiplies: `stacks { jobs { stack { jobs { stack { jobs … } } } } }` is nine levels of a small
 * document and hundreds of thousands of objects. This estimates the values an answer can hold, as the IBM
 * cost specification's rules do: a list field counts its slicing argument (`last`, `first`, `tail`, `limit`, or
 * those its `@listSize(slicingArguments:)` names: the value given, else the argument's default), else its
 * `@listSize(assumedSize:)`, else an assumed size; each value below it counts once per item, and a field weighs
 * 1 unless its `@cost(weight:)` says more (a mutation that starts containers, say).
 */
export interface CostPolicy extends Pick<OperationCeilings, "maxCost" | "assumedListSize"> {
  /** What the subgraphs declare with @cost and @listSize, read from the supergraph. */
  declared: DeclaredCosts;
  /** The caller's plan's ceiling on one operation's cost; `maxCost` bounds it for everyone. */
  planCeiling(caller: Caller): number;
}

export interface DeclaredCost {
  weight?: number;
  assumedSize?: number;
  slicingArguments?: readonly string[];
}

/** `@cost` and `@listSize` of each field, as composition carries them into the supergraph. */
export class DeclaredCosts {
  private constructor(private readonly byField: Map<string, DeclaredCost>) {}

  static none(): DeclaredCosts {
    return new DeclaredCosts(new Map());
  }

  static fromSupergraph(sdl: string): DeclaredCosts {
    const byField = new Map<string, DeclaredCost>();
    for (const definition of parse(sdl).definitions) {
      if (!("fields" in definition) || !definition.fields || !("name" in definition) || !definition.name) continue;
      for (const field of definition.fields) {
        if (!("arguments" in field) && field.kind !== "FieldDefinition") continue;
        const declared = declaredOf(field.directives ?? []);
        if (declared) byField.set(`${definition.name.value}.${field.name.value}`, declared);
      }
    }
    return new DeclaredCosts(byField);
  }

  of(type: string, field: string): DeclaredCost | undefined {
    return this.byField.get(`${type}.${field}`);
  }
}

function declaredOf(directives: readonly ConstDirectiveNode[]): DeclaredCost | undefined {
  const declared: DeclaredCost = {};
  for (const directive of directives) {
    const argument = (name: string) => directive.arguments?.find((candidate) => candidate.name.value === name)?.value;
    if (directive.name.value === "cost") {
      const weight = argument("weight");
      if (weight?.kind === Kind.INT) declared.weight = Number(weight.value);
    } else if (directive.name.value === "listSize") {
      const assumed = argument("assumedSize");
      if (assumed?.kind === Kind.INT) declared.assumedSize = Number(assumed.value);
      const slicing = argument("slicingArguments");
      if (slicing?.kind === Kind.LIST) declared.slicingArguments = slicing.values.flatMap((value) => (value.kind === Kind.STRING ? [value.value] : []));
    }
  }
  return Object.keys(declared).length > 0 ? declared : undefined;
}

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
  declared: DeclaredCosts = DeclaredCosts.none(),
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentCosts = new Map<string, number>();
  const entered = new Set<string>();

  function listSize(field: FieldNode, definition: GraphQLField<unknown, unknown>, costs: DeclaredCost | undefined): number {
    for (const name of costs?.slicingArguments ?? SLICING_ARGUMENTS) {
      const argument = definition.args.find((candidate) => candidate.name === name);
      if (!argument) continue;
      const given = field.arguments?.find((candidate) => candidate.name.value === name)?.value;
      // A variable the request left out takes the argument's default, as execution will (never the assumed size).
      const fromVariable = given?.kind === Kind.VARIABLE ? variables[given.name.value] : undefined;
      const value =
        given?.kind === Kind.INT ? Number(given.value) : given?.kind === Kind.VARIABLE ? (fromVariable ?? argument.defaultValue) : given ? undefined : argument.defaultValue;
      if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
    }
    return costs?.assumedSize ?? assumedListSize;
  }

  function fieldCost(field: FieldNode, parent: GraphQLNamedType): number {
    const name = field.name.value;
    if (name === "__typename" || INTROSPECTION_ROOTS.has(name)) return 1;
    if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
    const definition = parent.getFields()[name];
    if (!definition) return 0;
    const costs = declared.of(parent.name, name);
    let multiplier = 1;
    let type = getNullableType(definition.type);
    let outermost = true;
    while (isListType(type)) {
      multiplier *= outermost ? listSize(field, definition, costs) : assumedListSize;
      outermost = false;
      type = getNullableType(type.ofType);
    }
    const named = getNamedType(type);
    const below = field.selectionSet && isCompositeType(named) ? selectionSetCost(field.selectionSet, named) : 0;
    return Math.min(COST_CAP, multiplier * (costs?.weight ?? 1) + multiplier * below);
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

/** A policy of the shape ceilings alone: one ceiling for everyone (`maxCost`), and what `declared` says (none by default). */
export function uniformCostPolicy(ceilings: Pick<OperationCeilings, "maxCost" | "assumedListSize">, declared = DeclaredCosts.none()): CostPolicy {
  return { maxCost: ceilings.maxCost, assumedListSize: ceilings.assumedListSize, declared, planCeiling: () => Number.POSITIVE_INFINITY };
}

/** The most `caller` may spend on one operation: its plan's ceiling, within the ceiling for everyone. */
export function costLimitFor(policy: CostPolicy, caller: Caller): number {
  return Math.min(policy.maxCost, policy.planCeiling(caller));
}

/** An operation's estimated cost, and the refusal it earns from `caller`'s ceiling, if any. */
export function costOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  policy: CostPolicy,
  caller: Caller,
): { cost: number; limit: number; refusal: GraphQLError | null } {
  const cost = Math.min(estimateCost(schema, document, operation, variables, policy.assumedListSize, policy.declared), COST_CAP);
  const limit = costLimitFor(policy, caller);
  if (cost <= limit) return { cost, limit, refusal: null };
  const shown = cost >= COST_CAP ? "more than 10^15" : String(Math.round(cost));
  const refusal = new GraphQLError(
    `The operation is too costly for your plan: its answer could hold ${shown} values, at most ${limit} allowed. Ask for shorter lists (last, tail) or fewer nested ones.`,
    { extensions: { code: ErrorCode.COST_LIMIT_EXCEEDED, cost, limit } },
  );
  return { cost, limit, refusal };
}

/** Whether a request asked for its cost in the answer: `"extensions": { "cost": true }`, over HTTP or the socket. */
function asksForCost(extensions: Record<string, unknown> | undefined): boolean {
  return extensions?.cost === true;
}

/**
 * Apollo: variables are known only once the operation is resolved, before execution (and so before planning).
 * Refuses beyond the caller's ceiling with COST_LIMIT_EXCEEDED, and puts `extensions.cost` (the estimate and the
 * ceiling) in the answer when the request asked for it.
 */
export function refuseCostlyOperations<Context extends { caller: Caller }>(policy: CostPolicy): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      let measured: { cost: number; limit: number } | undefined;
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          // The values execution will use: the request's, coerced, with the operation's own defaults filled in
          // (`query($n: Int = 100)` must weigh what it will fetch). Values that do not coerce fail execution anyway.
          const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
          const variables = coerced.coerced ?? request.variables ?? {};
          const { refusal, ...rest } = costOf(schema, document, operation, variables, policy, contextValue.caller);
          measured = rest;
          if (refusal) throw new GraphQLError(refusal.message, { extensions: { ...refusal.extensions, http: { status: 400 } } });
        },
        async willSendResponse({ request, response }) {
          if (!measured || !asksForCost(request.extensions) || response.body.kind !== "single") return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, cost: { estimated: Math.round(measured.cost), limit: measured.limit } };
        },
      };
    },
  };
}
