import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from "graphql";
import { ErrorCode } from "@kombify/service-core/errors";

/**
 * How large one operation may be before it is refused, whatever its transport: a document is measured before
 * it is planned, so a request built to cost thousands of subgraph reads (deep `Stack.jobs` ↔ `Job.stack`
 * nesting, a thousand aliases of one expensive field) never reaches a subgraph.
 */
export interface OperationCeilings {
  /** Nested selection levels, leaves included (`{ a { b } }` is 2); introspection subtrees count as one. @default 10 */
  maxDepth: number;
  /** Aliased fields, fragments expanded. @default 30 */
  maxAliases: number;
  /** Fields selected at the operation's root, fragments expanded. @default 15 */
  maxRootFields: number;
  /** Directives anywhere in the operation, fragments expanded. @default 50 */
  maxDirectives: number;
  /** Field selections in all, fragments expanded: what planning and execution cost grows with. @default 300 */
  maxFields: number;
  /**
   * Field selections of a subscription: each distinct one is planned on the event loop when it arrives, about
   * 0.2 ms a field that crosses subgraphs, so this keeps one plan to tens of milliseconds. @default 100
   */
  maxSubscriptionFields: number;
  /** The answer's estimated size in values, lists multiplied (see operation-cost.ts), for everyone: each plan sets its own ceiling below it (plans.json maxOperationCost). @default 250000 */
  maxCost: number;
  /** Items assumed for a list without a slicing argument, for that estimate. @default 10 */
  assumedListSize: number;
}

export const DEFAULT_OPERATION_CEILINGS: OperationCeilings = {
  maxDepth: 10,
  maxAliases: 30,
  maxRootFields: 15,
  maxDirectives: 50,
  maxFields: 300,
  maxSubscriptionFields: 100,
  maxCost: 250_000,
  assumedListSize: 10,
};

/** The measures of an operation the ceilings bound, with fragments expanded. */
export interface OperationMeasure {
  /** The fields of a subscription, 0 for other operations: they are held to their own ceiling. */
  subscriptionFields: number;
  depth: number;
  aliases: number;
  rootFields: number;
  directives: number;
  fields: number;
}

/** Marks a refusal by a ceiling: its code is BAD_USER_INPUT whatever the validation step around it calls it. */
export const CEILING_EXTENSION = "ceiling";

const INTROSPECTION_ROOTS = new Set(["__schema", "__type"]);

interface SetMeasure {
  depth: number;
  aliases: number;
  directives: number;
  fields: number;
}

const ZERO: SetMeasure = { depth: 0, aliases: 0, directives: 0, fields: 0 };

/**
 * Measures every operation of a document in one pass, each fragment once (memoised), so a fragment bomb
 * (fragments that spread others twice, ten levels down) is measured in linear time and refused for the
 * millions of fields it stands for. A fragment cycle measures as nothing here; validation refuses it.
 */
export function measureOperations(document: DocumentNode): OperationMeasure[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const measured = new Map<string, SetMeasure>();
  const rootFieldsOf = new Map<string, number>();
  const entered = new Set<string>();

  function fragmentMeasure(name: string): SetMeasure {
    const known = measured.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment || entered.has(name)) return ZERO;
    entered.add(name);
    const measure = selectionSetMeasure(fragment.selectionSet);
    entered.delete(name);
    measured.set(name, measure);
    return measure;
  }

  function selectionSetMeasure(set: SelectionSetNode): SetMeasure {
    const total = { depth: 0, aliases: 0, directives: 0, fields: 0 };
    const add = (part: SetMeasure, depth: number) => {
      total.depth = Math.max(total.depth, depth);
      total.aliases += part.aliases;
      total.directives += part.directives;
      total.fields += part.fields;
    };
    for (const selection of set.selections) {
      total.directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.FIELD) {
        total.fields += 1;
        if (selection.alias) total.aliases += 1;
        if (!selection.selectionSet) total.depth = Math.max(total.depth, 1);
        else {
          const below = selectionSetMeasure(selection.selectionSet);
          add(below, INTROSPECTION_ROOTS.has(selection.name.value) ? 1 : below.depth + 1);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const inner = selectionSetMeasure(selection.selectionSet);
        add(inner, inner.depth);
      } else {
        const inner = fragmentMeasure(selection.name.value);
        add(inner, inner.depth);
      }
    }
    return total;
  }

  function rootFieldCount(set: SelectionSetNode, path: Set<string>): number {
    let count = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) count += 1;
      else if (selection.kind === Kind.INLINE_FRAGMENT) count += rootFieldCount(selection.selectionSet, path);
      else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || path.has(name)) continue;
        let known = rootFieldsOf.get(name);
        if (known === undefined) {
          known = rootFieldCount(fragment.selectionSet, new Set(path).add(name));
          rootFieldsOf.set(name, known);
        }
        count += known;
      }
    }
    return count;
  }

  return document.definitions.flatMap((definition) => {
    if (definition.kind !== Kind.OPERATION_DEFINITION) return [];
    const measure = selectionSetMeasure(definition.selectionSet);
    return [
      {
        ...measure,
        subscriptionFields: definition.operation === "subscription" ? measure.fields : 0,
        directives: measure.directives + (definition.directives?.length ?? 0),
        rootFields: rootFieldCount(definition.selectionSet, new Set()),
      },
    ];
  });
}

const CEILING_OF: { ceiling: keyof OperationCeilings; measure: keyof OperationMeasure; what: string }[] = [
  { ceiling: "maxDepth", measure: "depth", what: "levels deep" },
  { ceiling: "maxAliases", measure: "aliases", what: "aliases" },
  { ceiling: "maxRootFields", measure: "rootFields", what: "root fields" },
  { ceiling: "maxDirectives", measure: "directives", what: "directives" },
  { ceiling: "maxFields", measure: "fields", what: "fields" },
  { ceiling: "maxSubscriptionFields", measure: "subscriptionFields", what: "fields in a subscription" },
];

/** The refusals a document earns against the ceilings: one per ceiling it exceeds, naming it. */
export function ceilingViolations(document: DocumentNode, ceilings: OperationCeilings): GraphQLError[] {
  const worst: Partial<Record<keyof OperationMeasure, number>> = {};
  for (const measure of measureOperations(document)) {
    for (const key of Object.keys(measure) as (keyof OperationMeasure)[]) worst[key] = Math.max(worst[key] ?? 0, measure[key]);
  }
  return CEILING_OF.filter(({ ceiling, measure }) => (worst[measure] ?? 0) > ceilings[ceiling]).map(
    ({ ceiling, measure, what }) =>
      new GraphQLError(
        `The operation is too large: ${worst[measure]} ${what}, at most ${ceilings[ceiling]} allowed (${ceiling}).`,
        { extensions: { code: ErrorCode.BAD_USER_INPUT, [CEILING_EXTENSION]: ceiling, limit: ceilings[ceiling] } },
      ),
  );
}

/** The ceilings as a validation rule, so they run wherever validation does and are cached with it. */
export function operationCeilingsRule(ceilings: OperationCeilings): ValidationRule {
  return (context) => ({
    Document(document) {
      for (const error of ceilingViolations(document, ceilings)) context.reportError(error);
      return false;
    },
  });
}
