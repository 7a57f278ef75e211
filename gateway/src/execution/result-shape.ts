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
  /** `"responseName":`, as written before its value. */
  key: string;
  /** `__typename`, `__schema`/`__type` (answered by `introspect`) or a field of the type. */
  kind: "typename" | "introspection" | "field";
  nodes: FieldNode[];
  /** How its value is written: its type, worked out once (no type checks per value). */
  value: ValuePlan | null;
}

/** A field's type as the writer walks it: each level decided once, when the field is collected. */
type ValuePlan =
  | { kind: "nonNull"; type: GraphQLOutputType; inner: ValuePlan }
  | { kind: "list"; type: GraphQLOutputType; inner: ValuePlan }
  | { kind: "composite"; type: GraphQLCompositeType; shape: SelectionShape }
  | { kind: "leaf"; type: GraphQLOutputType; valid: (value: unknown) => boolean };

/** The sub-selections asking for one composite value; fields collected per runtime type on first use. */
interface SelectionShape {
  selectionSets: readonly SelectionSetNode[];
  collected: Map<string, CollectedField[]>;
}

/** What completing a value wrote: the value, a plain null, a null whose error is reported, or a null to bubble up. */
const enum Written {
  VALUE,
  NULL,
  REPORTED_NULL,
  /** Null where the type forbids it: the caller drops what it wrote for its own value and bubbles or writes null. */
  INVALID,
}

export interface ShapedResult {
  /** The client's `data` as JSON text: `null` when a null bubbled to the root. */
  json: string;
  errors: GraphQLError[];
}

/**
 * The client's result, written as JSON straight from the merged subgraph answers by the operation's own selections:
 * fields in the client's names and order, nothing the plan added (keys, __typename for routing), fragments by the
 * object's runtime type, @skip/@include, null bubbling to the nearest nullable field, values checked against the
 * API schema (an @inaccessible enum value or type name never reaches a client). The same rules as @apollo/gateway's
 * computeResponse, but compiled once per operation (fields collected per runtime type and per value of the
 * @skip/@include variables) and written in one pass, with no result objects built only to be serialised.
 */
export class ResultShape {
  private readonly root: SelectionShape;
  private readonly fragments: Map<string, FragmentDefinitionNode>;
  private readonly rootType: GraphQLObjectType;
  /** Variables that @skip/@include read: their values pick which collected fields apply. */
  private readonly conditionVariables: string[];

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
  }

  write(input: ResultMap | null | undefined, variables: Record<string, unknown>, introspect: (field: FieldNode) => unknown): ShapedResult {
    if (!input) return { json: "null", errors: [] };
    const run: Run = { variables, conditionKey: this.conditionVariables.map((name) => (variables[name] ? "1" : "0")).join(""), errors: [], introspect, json: "" };
    const written = this.writeObject(run, input, this.root, this.rootType, []);
    return { json: written === Written.VALUE ? run.json : "null", errors: run.errors };
  }

  /** Writes the object, or returns INVALID having written part of it (a non-null field of it was null). */
  private writeObject(run: Run, input: ResultMap, shape: SelectionShape, type: GraphQLCompositeType, path: Path): Written {
    let separator = "{";
    for (const field of this.collect(run, shape, type)) {
      if (field.kind === "typename") {
        // An interface's name (an @interfaceObject's answer whose implementation could not be fetched) is no answer.
        if (!isObjectType(type)) return Written.INVALID;
        run.json += `${separator}${field.key}${JSON.stringify(type.name)}`;
      } else if (field.kind === "introspection") {
        run.json += `${separator}${field.key}${JSON.stringify(run.introspect(field.nodes[0]!)) ?? "null"}`;
      } else {
        run.json += separator + field.key;
        const name = field.responseName;
        path.push(name);
        const written = this.writeValue(run, field.value!, Object.hasOwn(input, name) ? (input[name] ?? null) : null, path, type);
        path.pop();
        if (written === Written.INVALID) return Written.INVALID;
      }
      separator = ",";
    }
    run.json += separator === "{" ? "{}" : "}";
    return Written.VALUE;
  }

  private writeValue(run: Run, plan: ValuePlan, value: unknown, path: Path, parentType: GraphQLCompositeType): Written {
    if (plan.kind === "nonNull") {
      const written = this.writeValue(run, plan.inner, value, path, parentType);
      if (written === Written.NULL) {
        run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${describeLast(path, plan.inner.type, parentType)}.`, { path: [...path] }));
        return Written.INVALID;
      }
      return written === Written.REPORTED_NULL ? Written.INVALID : written;
    }
    if (value === null || value === undefined) {
      run.json += "null";
      return Written.NULL;
    }
    switch (plan.kind) {
      case "leaf":
        if (!plan.valid(value)) return this.invalidValue(run, path, plan.type, parentType);
        run.json += typeof value === "boolean" ? (value ? "true" : "false") : JSON.stringify(value);
        return Written.VALUE;
      case "list": {
        if (!Array.isArray(value)) return this.invalidValue(run, path, plan.type, parentType);
        const start = run.json.length;
        let nullify = false;
        run.json += "[";
        for (let index = 0; index < value.length; index++) {
          if (index > 0) run.json += ",";
          const elementStart = run.json.length;
          path.push(index);
          const written = this.writeValue(run, plan.inner, value[index] ?? null, path, parentType);
          path.pop();
          if (written === Written.INVALID) {
            // A non-null element that is null makes the list null; the rest is still completed, for its errors.
            nullify = true;
            run.json = `${run.json.slice(0, elementStart)}null`;
          }
        }
        run.json += "]";
        if (!nullify) return Written.VALUE;
        run.json = `${run.json.slice(0, start)}null`;
        return Written.REPORTED_NULL;
      }
      case "composite": {
        if (typeof value !== "object") return this.invalidValue(run, path, plan.type, parentType);
        const typename = (value as ResultMap).__typename;
        let runtimeType: GraphQLCompositeType = plan.type;
        if (typename !== undefined && typename !== runtimeType.name) {
          const named = typeof typename === "string" ? this.schema.getType(typename) : undefined;
          if (!named || !isCompositeType(named)) {
            // Not in the API schema (@inaccessible): its name must not reach the client, not even in the error.
            run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid __typename found for object at ${describeLast(path, plan.type, parentType)}.`, { path: [...path] }));
            run.json += "null";
            return Written.REPORTED_NULL;
          }
          runtimeType = named;
        }
        const start = run.json.length;
        if (this.writeObject(run, value as ResultMap, plan.shape, runtimeType, path) === Written.VALUE) return Written.VALUE;
        run.json = `${run.json.slice(0, start)}null`;
        return Written.REPORTED_NULL;
      }
    }
  }

  private invalidValue(run: Run, path: Path, type: GraphQLOutputType, parentType: GraphQLCompositeType): Written {
    run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describeLast(path, type, parentType)}.`, { path: [...path] }));
    run.json += "null";
    return Written.REPORTED_NULL;
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
        fields.push({ responseName, key: `${JSON.stringify(responseName)}:`, kind: "typename", nodes, value: null });
        continue;
      }
      if (fieldName === "__schema" || fieldName === "__type") {
        fields.push({ responseName, key: `${JSON.stringify(responseName)}:`, kind: "introspection", nodes, value: null });
        continue;
      }
      const definition = fieldOf(type, fieldName);
      if (!definition) continue;
      const subSelections = nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
      const shape: SelectionShape | null = isCompositeType(getNamedType(definition.type)) ? { selectionSets: subSelections, collected: new Map() } : null;
      fields.push({ responseName, key: `${JSON.stringify(responseName)}:`, kind: "field", nodes, value: valuePlan(definition.type, shape) });
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
      const condition = argument?.kind === Kind.VARIABLE ? Boolean(run.variables[argument.name.value]) : argument?.kind === Kind.BOOLEAN ? argument.value : false;
      if (name === "skip" ? condition : !condition) return false;
    }
    return true;
  }
}

interface Run {
  variables: Record<string, unknown>;
  conditionKey: string;
  errors: GraphQLError[];
  introspect: (field: FieldNode) => unknown;
  /** What is written so far (V8 joins the pieces once, when it is read whole). */
  json: string;
}

function fieldOf(type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return "getFields" in type ? type.getFields()[name] : undefined;
}

/** How a field's type is written, level by level, decided once. */
function valuePlan(type: GraphQLOutputType, shape: SelectionShape | null): ValuePlan {
  if (isNonNullType(type)) return { kind: "nonNull", type, inner: valuePlan(type.ofType, shape) };
  if (isListType(type)) return { kind: "list", type, inner: valuePlan(type.ofType, shape) };
  if (isCompositeType(type)) return { kind: "composite", type, shape: shape! };
  return { kind: "leaf", type, valid: leafCheck(type) };
}

/** As federation's isValidLeafValue: built-in scalars by their JSON kind, enum values of the API schema, custom scalars anything. */
function leafCheck(type: GraphQLOutputType): (value: unknown) => boolean {
  if (isEnumType(type)) {
    const values = new Set((type as GraphQLEnumType).getValues().map((value) => value.name));
    return (value) => typeof value === "string" && values.has(value);
  }
  switch ((type as { name: string }).name) {
    case "String":
      return (value) => typeof value === "string";
    case "ID":
      return (value) => typeof value === "string" || (typeof value === "number" && Number.isInteger(value));
    case "Int":
      return (value) => typeof value === "number" && Number.isInteger(value);
    case "Float":
      return (value) => typeof value === "number" && Number.isFinite(value);
    case "Boolean":
      return (value) => typeof value === "boolean";
    default:
      return () => true;
  }
}

function describeLast(path: Path, type: GraphQLOutputType, parentType: GraphQLCompositeType): string {
  const last = path[path.length - 1];
  return typeof last === "string" ? `field ${parentType.name}.${last}` : `array element of type ${String(type)} at index ${last}`;
}
