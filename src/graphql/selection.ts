/**
 * What a query selects under a field, so the resolvers can ask the workers only for the outputs
 * the selected fields need (a query for `label` alone fetches no probabilities).
 */
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import type { ClassificationNeeds } from '../domain/types.ts';

/**
 * The names of the fields selected on this field's value, through inline fragments and spreads;
 * with `under`, those selected on that child field's value instead (predictStream's `prediction`).
 */
export function selectedFieldNames(info: GraphQLResolveInfo, under?: string): Set<string> {
  const names = new Set<string>();
  const children: FieldNode[] = [];
  const visit = (set: SelectionSetNode | undefined, collect: (field: FieldNode) => void) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) collect(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, collect);
      else visit(info.fragments[selection.name.value]?.selectionSet, collect);
    }
  };
  const add = (field: FieldNode) => names.add(field.name.value);
  for (const node of info.fieldNodes as readonly FieldNode[]) {
    if (under === undefined) visit(node.selectionSet, add);
    else visit(node.selectionSet, (field) => field.name.value === under && children.push(field));
  }
  for (const child of children) visit(child.selectionSet, add);
  return names;
}

/** Fields of Classification that need every class's probability, not only the winning label. */
const NEEDS_PROBABILITIES = ['score', 'classes', 'probabilities'];

export function classificationNeeds(info: GraphQLResolveInfo, under?: string): ClassificationNeeds {
  const selected = selectedFieldNames(info, under);
  return NEEDS_PROBABILITIES.some((field) => selected.has(field)) ? 'probabilities' : 'label';
}
