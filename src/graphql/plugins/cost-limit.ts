/**
 * The work budget of one request: before execution starts, every `predict`, `predictMany` and `predictStream` in
 * the operation (through fragments, aliases and skipped fields alike: it is an upper bound) is
 * priced by src/predict/cost.ts from its model and its inputs' sizes, variables included. A
 * request over MAX_REQUEST_COST is refused whole with COST_LIMIT_EXCEEDED (HTTP 400), so no
 * single query can queue more work than the setting allows, however it spreads it.
 *
 * The main thread's share is priced too: the values each answer writes (by the fields selected,
 * lists counted at the most items they can hold: a classifier's classes, a page's lines) and the
 * values of the variables (measured by src/graphql/plugins/request-limits.ts).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values.js';
import type { ModelRegistry } from '../../models/registry.ts';
import { inputCost, responseCost, variablesCost, type RawInput } from '../../predict/cost.ts';
import type { ServedModel } from '../../models/served-model.ts';
import { measuredVariables } from './request-limits.ts';
import type { Metrics } from '../../metrics.ts';
import type { RequestContext } from '../context.ts';
import { graphQLError } from '../errors.ts';

interface PricedField {
  field: string;
  model: string;
  inputs: number;
  cost: number;
}

/** Items a list in an answer is counted at when nothing bounds it better (segments, tensor outputs, a model's versions). */
export const LIST_ITEMS_ESTIMATE = 16;

/**
 * The values one answer of `model` writes for `set`: a leaf counts 1, a list its most items
 * (classes and probabilities: the model's classes, `classes(top:)` fewer; a page's lines: its
 * model's most lines; others LIST_ITEMS_ESTIMATE). Fragments for different types count the
 * largest, as only one applies; a fragment is walked once however often it is spread.
 */
export function answerValues(set: SelectionSetNode, parent: GraphQLCompositeType, schema: GraphQLSchema, fragments: ReadonlyMap<string, FragmentDefinitionNode>, model: ServedModel, variables: Record<string, unknown>): number {
  const memo = new Map<string, number>();
  const listItems = (field: FieldNode): number => {
    const classes = Math.max(1, model.labels.length);
    switch (field.name.value) {
      case 'probabilities':
        return classes;
      case 'classes': {
        const top = field.arguments?.find((a) => a.name.value === 'top')?.value;
        const n = top?.kind === Kind.INT ? Number(top.value) : top?.kind === Kind.VARIABLE ? Number(variables[top.name.value]) : NaN;
        return Number.isInteger(n) && n >= 1 ? Math.min(n, classes) : classes;
      }
      case 'lines':
        return Math.max(1, model.stages?.maxAnswerItems ?? 1);
      default:
        return LIST_ITEMS_ESTIMATE;
    }
  };
  const walk = (selections: SelectionSetNode, type: GraphQLCompositeType): number => {
    let common = 0;
    const byType = new Map<string, number>();
    const addFor = (condition: string | undefined, values: number) => {
      if (condition === undefined || condition === type.name) common += values;
      else byType.set(condition, (byType.get(condition) ?? 0) + values);
    };
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '__typename' || !(isObjectType(type) || isInterfaceType(type))) {
          common += 1;
          continue;
        }
        const definition = type.getFields()[selection.name.value];
        if (!definition) continue;
        const named = getNamedType(definition.type);
        // FloatData (probabilities, a tensor's data) is a list written as one scalar.
        const items = isListType(getNullableType(definition.type)) || named.name === 'FloatData' ? listItems(selection) : 1;
        const each = selection.selectionSet && isCompositeType(named) ? walk(selection.selectionSet, named) : 1;
        common += items * each;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition?.name.value;
        const conditionType = condition ? schema.getType(condition) : type;
        if (conditionType && isCompositeType(conditionType)) addFor(condition, walk(selection.selectionSet, conditionType));
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) continue;
        const condition = fragment.typeCondition.name.value;
        let values = memo.get(fragment.name.value);
        if (values === undefined) {
          memo.set(fragment.name.value, 0); // a cycle (validation refuses those) counts nothing
          const conditionType = schema.getType(condition);
          values = conditionType && isCompositeType(conditionType) ? walk(fragment.selectionSet, conditionType) : 0;
          memo.set(fragment.name.value, values);
        }
        addFor(condition, values);
      }
    }
    return common + Math.max(0, ...byType.values());
  };
  return walk(set, parent);
}

/** The root fields that queue predictions: one input, a list, a stream of the list's answers. */
const PRICED_FIELDS = new Set(['predict', 'predictMany', 'predictStream']);

/**
 * The prediction fields of an operation, priced: a query's, or a subscription's on the stream
 * transports (`rootType` is then the Subscription type). Unknown models cost nothing: they fail anyway.
 */
export function priceOperation(selectionSet: SelectionSetNode, document: DocumentNode, schema: GraphQLSchema, variables: Record<string, unknown>, registry: ModelRegistry, rootType: GraphQLObjectType = schema.getQueryType() as GraphQLObjectType): PricedField[] {
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const priced: PricedField[] = [];
  const seenFragments = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
      else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !seenFragments.has(fragment.name.value)) {
          seenFragments.add(fragment.name.value);
          walk(fragment.selectionSet);
        }
      } else if (PRICED_FIELDS.has(selection.name.value)) {
        const definition = rootType.getFields()[selection.name.value];
        if (!definition) continue;
        let args: Record<string, unknown>;
        try {
          args = getArgumentValues(definition, selection, variables);
        } catch {
          continue; // a malformed argument: execution reports it with its proper error
        }
        const model = typeof args.model === 'string' ? registry.find(args.model, args.version as string | undefined) : undefined;
        if (!model) continue;
        const inputs = (selection.name.value === 'predict' ? [args.input] : Array.isArray(args.inputs) ? args.inputs : []) as RawInput[];
        let cost = 0;
        for (const input of inputs) cost += inputCost(model, input);
        const answerType = getNamedType(definition.type) as GraphQLCompositeType;
        const values = selection.selectionSet ? answerValues(selection.selectionSet, answerType, schema, fragments, model, variables) : 1;
        cost += responseCost(values * inputs.length);
        priced.push({ field: selection.alias?.value ?? selection.name.value, model: model.name, inputs: inputs.length, cost });
      }
    }
  };
  walk(selectionSet);
  return priced;
}

export function costLimitPlugin(registry: ModelRegistry, maxCost: number, metrics: Metrics): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, schema, request }) {
          if (!operation || operation.operation !== 'query') return;
          const priced = priceOperation(operation.selectionSet, document, schema, request.variables ?? {}, registry);
          const cost = priced.reduce((sum, p) => sum + p.cost, 0) + variablesCost(measuredVariables(request)?.values ?? 0);
          if (cost <= maxCost) return;
          metrics.queriesRefused.inc({ limit: 'MAX_REQUEST_COST' });
          const biggest = [...priced].sort((a, b) => b.cost - a.cost).slice(0, 3).map((p) => `${p.field} (${p.model}, ${p.inputs} input${p.inputs === 1 ? '' : 's'}): ${p.cost}`);
          throw graphQLError(
            'COST_LIMIT_EXCEEDED',
            `this request would cost ${cost} units of work, over the limit of ${maxCost} (MAX_REQUEST_COST); the most expensive fields: ${biggest.join('; ')}. Split it into smaller requests.`,
            { cost, limit: maxCost },
            true,
          );
        },
      };
    },
  };
}
