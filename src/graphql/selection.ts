/**
 * What a query selects under a field, so the resolvers can ask the workers only for the outputs
 * the selected fields need (a query for `label` alone fetches no probabilities).
 */
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import type { ClassificationNeeds } from '../domain/types.ts';

/** The names of the fields selected on this field's value, through inline fragments and spreads. */
export function selectedFieldNames(info: GraphQLResolveInfo): Set<string> {
  const names = new Set<string>();
  const visit = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else visit(info.fragments[selection.name.value]?.selectionSet);
    }
  };
  for (const node of info.fieldNodes as readonly FieldNode[]) visit(node.selectionSet);
  return names;
}

/** Fields of Classification that need every class's probability, not only the winning label. */
const NEEDS_PROBABILITIES = ['score', 'classes', 'probabilities'];

export function classificationNeeds(info: GraphQLResolveInfo): ClassificationNeeds {
  const selected = selectedFieldNames(info);
  return NEEDS_PROBABILITIES.some((field) => selected.has(field)) ? 'probabilities' : 'label';
}
