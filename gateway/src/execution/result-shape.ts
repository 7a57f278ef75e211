import { ERRORS } from "@apollo/federation-internals";
import {
  GraphQLEnumType,
  GraphQLObjectType,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLError,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

type ResultMap = Record<string, any>;
type Path = (string | number)[];

/** One response key of an object: its field (all the nodes that ask for it) and how to shape what it holds. */
interface CollectedField {
  responseName: string;
  /** `__typename`, `__schema`/`__type` (answered by `introspect`) or a field of the type. */
  kind: "typename" | "introspection" | "field";
  nodes: FieldNode[];
  type: GraphQLOutputType;
  /** The merged sub-selection of a composite field; null for leaves. */
  shape: SelectionShape | null;
}

/** The sub-selections asking for one composite value; fields collected per runtime type on first use. */
interface SelectionShape {
  selectionSets: readonly SelectionSetNode[];
  collected: Map<string, CollectedField[]>;
}

/** A bubbling null: the value was null where the type says it cannot be. */
const INVALID = Symbol("invalid");
/** A null whose error is already reported: a non-null field above it bubbles it without reporting again. */
const REPORTED_NULL = Symbol("reported null");

export interface ShapedResult {
  data: ResultMap | null;
  errors: GraphQLError[];
}

/**
 * The client's result, shaped from the merged subgraph answers by the operation's own selections: fields in the
 * client's names and order, nothing the plan added (keys, __typename for routing), fragments by the object's
 * runtime type, @skip/@include, null bubbling to the nearest nullable field, values checked against the API schema
 * (an @inaccessible enum value or type name never reaches a client). The same rules as @apollo/gateway's
 * computeResponse, but compiled once per operation (fields collected per runtime type and per value of the
 * @skip/@include variables) instead of interpreted over the operation for every response.
 */
export class ResultShape {
  private readonly root: SelectionShape;
  private readonly fragments: Map<string, FragmentDefinitionNode>;
  private readonly rootType: GraphQLObjectType;
  /** Variables that @skip/@include read: their values pick which collected fields apply. */
  private readonly conditionVariables: string[];
  /** The operation's Boolean defaults, for a condition variable the request leaves out. */
  private readonly conditionDefaults: Map<string, boolean>;

  constructor(
    private readonly schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: readonly FragmentDefinitionNode[],
  ) {
    this.fragments = new Map(fragments.map((fragment) => [fragment.name.value, fragment]));
    this.rootType = schema.getRootType(operation.operation)!;
    this.root = { selectionSets: [operation.selectionSet], collected: new Map() };
    const conditionVariables = new Set<string>();
    const visitSelections = (selectionSet: SelectionSetNode) => {
      for (const selection of selectionSet.selections) {
        for (const directive of selection.directives ?? []) {
          if (directive.name.value !== "skip" && directive.name.value !== "include") continue;
          const condition = directive.arguments?.find((argument) => argument.name.value === "if")?.value;
          if (condition?.kind === Kind.VARIABLE) conditionVariables.add(condition.name.value);
        }
        if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet) visitSelections(selection.selectionSet);
      }
    };
    visitSelections(operation.selectionSet);
    for (const fragment of fragments) visitSelections(fragment.selectionSet);
    this.conditionVariables = [...conditionVariables];
    this.conditionDefaults = new Map(
      (operation.variableDefinitions ?? []).flatMap((definition) =>
        definition.defaultValue?.kind === Kind.BOOLEAN ? [[definition.variable.name.value, definition.defaultValue.value] as const] : [],
      ),
    );
  }

  shape(input: ResultMap | null | undefined, variables: Record<string, unknown>, introspect: (field: FieldNode) => unknown): ShapedResult {
    if (!input) return { data: input ?? null, errors: [] };
    const run: Run = { variables, defaults: this.conditionDefaults, conditionKey: this.conditionVariables.map((name) => (conditionValue(variables, this.conditionDefaults, name) ? "1" : "0")).join(""), errors: [], introspect };
    const data: ResultMap = Object.create(null);
    const outcome = this.shapeObject(run, input, this.root, this.rootType, data, []);
    return { data: outcome === INVALID ? null : data, errors: run.errors };
  }

  private shapeObject(run: Run, input: ResultMap, shape: SelectionShape, type: GraphQLObjectType | GraphQLCompositeType, output: ResultMap, path: Path): typeof INVALID | undefined {
    for (const field of this.collect(run, shape, type)) {
      const name = field.responseName;
      if (field.kind === "typename") {
        // An interface's name (an @interfaceObject's answer whose implementation could not be fetched) is no answer.
        if (!isObjectType(type)) return INVALID;
        output[name] = type.name;
        continue;
      }
      if (field.kind === "introspection") {
        output[name] = run.introspect(field.nodes[0]!);
        continue;
      }
      const value = Object.hasOwn(input, name) ? input[name] : null;
      path.push(name);
      const completed = this.complete(run, field.type, value ?? null, field.shape, path, type);
      path.pop();
      if (completed === INVALID) return INVALID;
      output[name] = completed === REPORTED_NULL ? null : completed;
    }
    return undefined;
  }

  private complete(run: Run, type: GraphQLOutputType, value: unknown, shape: SelectionShape | null, path: Path, parentType: GraphQLCompositeType): unknown {
    if (isNonNullType(type)) {
      const completed = this.complete(run, type.ofType, value, shape, path, parentType);
      if (completed === null) {
        run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${describeLast(path, type.ofType, parentType)}.`, { path: [...path] }));
        return INVALID;
      }
      return completed === REPORTED_NULL ? INVALID : completed;
    }
    if (value === null || value === undefined) return null;
    if (isListType(type)) {
      if (!Array.isArray(value)) return this.invalidValue(run, path, type, parentType);
      const list = new Array(value.length);
      let nullify = false;
      for (let index = 0; index < value.length; index++) {
        path.push(index);
        const completed = this.complete(run, type.ofType, value[index] ?? null, shape, path, parentType);
        path.pop();
        if (completed === INVALID) nullify = true;
        list[index] = completed === REPORTED_NULL ? null : completed;
      }
      // A non-null element that is null makes the list null, its error already reported.
      return nullify ? REPORTED_NULL : list;
    }
    if (isCompositeType(type)) {
      if (typeof value !== "object") return this.invalidValue(run, path, type, parentType);
      const typename = (value as ResultMap).__typename;
      let runtimeType: GraphQLCompositeType = type;
      if (typename !== undefined) {
        const named = typeof typename === "string" ? this.schema.getType(typename) : undefined;
        if (!named || !isCompositeType(named)) {
          // Not in the API schema (@inaccessible): its name must not reach the client, not even in the error.
          run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid __typename found for object at ${describeLast(path, type, parentType)}.`, { path: [...path] }));
          return REPORTED_NULL;
        }
        runtimeType = named;
      }
      const output: ResultMap = Object.create(null);
      return this.shapeObject(run, value as ResultMap, shape!, runtimeType, output, path) === INVALID ? REPORTED_NULL : output;
    }
    return isValidLeaf(type, value) ? value : this.invalidValue(run, path, type, parentType);
  }

  private invalidValue(run: Run, path: Path, type: GraphQLOutputType, parentType: GraphQLCompositeType): typeof REPORTED_NULL {
    run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describeLast(path, type, parentType)}.`, { path: [...path] }));
    return REPORTED_NULL;
  }

  /** The fields a value of `type` gets from `shape`, collected once per type and per @skip/@include outcome. */
  private collect(run: Run, shape: SelectionShape, type: GraphQLCompositeType): CollectedField[] {
    const key = run.conditionKey ? `${type.name}|${run.conditionKey}` : type.name;
    let fields = shape.collected.get(key);
    if (!fields) shape.collected.set(key, (fields = this.collectFields(run, shape.selectionSets, type)));
    return fields;
  }

  private collectFields(run: Run, selectionSets: readonly SelectionSetNode[], type: GraphQLCompositeType): CollectedField[] {
    const byName = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    const visit = (selectionSet: SelectionSetNode) => {
      for (const selection of selectionSet.selections) {
        if (!this.included(run, selection.directives)) continue;
        if (selection.kind === Kind.FIELD) {
          const name = selection.alias?.value ?? selection.name.value;
          const nodes = byName.get(name);
          if (nodes) nodes.push(selection);
          else byName.set(name, [selection]);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (this.applies(selection.typeCondition?.name.value, type)) visit(selection.selectionSet);
        } else {
          const fragment = this.fragments.get(selection.name.value);
          if (!fragment || visited.has(fragment.name.value) || !this.applies(fragment.typeCondition.name.value, type)) continue;
          visited.add(fragment.name.value);
          visit(fragment.selectionSet);
        }
      }
    };
    for (const selectionSet of selectionSets) visit(selectionSet);
    const fields: CollectedField[] = [];
    for (const [responseName, nodes] of byName) {
      const fieldName = nodes[0]!.name.value;
      if (fieldName === "__typename") {
        fields.push({ responseName, kind: "typename", nodes, type: this.schema.getType("String") as GraphQLOutputType, shape: null });
        continue;
      }
      if (fieldName === "__schema" || fieldName === "__type") {
        fields.push({ responseName, kind: "introspection", nodes, type: this.schema.getType("String") as GraphQLOutputType, shape: null });
        continue;
      }
      const definition = fieldOf(type, fieldName);
      if (!definition) continue;
      const subSelections = nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
      fields.push({
        responseName,
        kind: "field",
        nodes,
        type: definition.type,
        shape: isCompositeType(getNamedType(definition.type)) ? { selectionSets: subSelections, collected: new Map() } : null,
      });
    }
    return fields;
  }

  private applies(condition: string | undefined, type: GraphQLCompositeType): boolean {
    if (!condition || condition === type.name) return true;
    const conditionType = this.schema.getType(condition);
    if (!conditionType || !isAbstractType(conditionType)) return false;
    // An object (or an interface, when no __typename said which object) of the condition's abstract type.
    return isUnionType(type) ? false : this.schema.isSubType(conditionType, type);
  }

  private included(run: Run, directives: FieldNode["directives"]): boolean {
    if (!directives || directives.length === 0) return true;
    for (const directive of directives) {
      const name = directive.name.value;
      if (name !== "skip" && name !== "include") continue;
      const argument = directive.arguments?.find((candidate) => candidate.name.value === "if")?.value;
      const condition = argument?.kind === Kind.VARIABLE ? conditionValue(run.variables, run.defaults, argument.name.value) : argument?.kind === Kind.BOOLEAN ? argument.value : false;
      if (name === "skip" ? condition : !condition) return false;
    }
    return true;
  }
}

interface Run {
  variables: Record<string, unknown>;
  defaults: ReadonlyMap<string, boolean>;
  conditionKey: string;
  errors: GraphQLError[];
  introspect: (field: FieldNode) => unknown;
}

/** A @skip/@include variable's value: the request's, or the operation's default when the request leaves it out. */
function conditionValue(variables: Record<string, unknown>, defaults: ReadonlyMap<string, boolean>, name: string): boolean {
  return Object.hasOwn(variables, name) && variables[name] !== undefined ? Boolean(variables[name]) : (defaults.get(name) ?? false);
}

function fieldOf(type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return "getFields" in type ? type.getFields()[name] : undefined;
}

const BUILT_IN_SCALARS = new Set(["String", "Int", "Float", "Boolean", "ID"]);

/** As federation's isValidLeafValue: built-in scalars by their JSON kind, enum values of the API schema, custom scalars anything. */
function isValidLeaf(type: GraphQLOutputType, value: unknown): boolean {
  if (isEnumType(type)) return typeof value === "string" && (type as GraphQLEnumType).getValue(value) !== undefined;
  const name = (type as { name: string }).name;
  if (!BUILT_IN_SCALARS.has(name)) return true;
  if (typeof value === "boolean") return name === "Boolean";
  if (typeof value === "number" && Number.isFinite(value)) return name === "Int" || name === "ID" ? Number.isInteger(value) : name === "Float";
  if (typeof value === "string") return name === "String" || name === "ID";
  return false;
}

function describeLast(path: Path, type: GraphQLOutputType, parentType: GraphQLCompositeType): string {
  const last = path[path.length - 1];
  return typeof last === "string" ? `field ${parentType.name}.${last}` : `array element of type ${String(type)} at index ${last}`;
}
