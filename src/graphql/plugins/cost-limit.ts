/**
 * The work budget of one request: before execution starts, every `predict` and `predictMany` in
 * the operation (through fragments, aliases and skipped fields alike: it is an upper bound) is
 * priced by src/predict/cost.ts from its model and its inputs' sizes, variables included. A
 * request over MAX_REQUEST_COST is refused whole with COST_LIMIT_EXCEEDED (HTTP 400), so no
 * single query can queue more work than the setting allows, however it spreads it.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLObjectType, type SelectionSetNode } from 'graphql';
import { getArgumentValues } from 'graphql/execution/values.js';
import type { ModelRegistry } from '../../models/registry.ts';
import { inputCost, type RawInput } from '../../predict/cost.ts';
import type { Metrics } from '../../metrics.ts';
import type { RequestContext } from '../context.ts';
import { graphQLError } from '../errors.ts';

interface PricedField {
  field: string;
  model: string;
  inputs: number;
  cost: number;
}

/** The prediction fields of an operation, priced. Unknown models cost nothing: they fail anyway. */
export function priceOperation(selectionSet: SelectionSetNode, document: DocumentNode, queryType: GraphQLObjectType, variables: Record<string, unknown>, registry: ModelRegistry): PricedField[] {
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
      } else if (selection.name.value === 'predict' || selection.name.value === 'predictMany') {
        const definition = queryType.getFields()[selection.name.value]!;
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
          const priced = priceOperation(operation.selectionSet, document, schema.getQueryType()!, request.variables ?? {}, registry);
          const cost = priced.reduce((sum, p) => sum + p.cost, 0);
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
