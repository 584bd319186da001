/**
 * The size of a request's variables, measured before anything else walks them. Apollo coerces
 * variables only at execution, recursively and building an error per bad element; a 15 MB body of
 * nested arrays (15 KB gzipped) held the event loop for seconds there. This walk is iterative (a
 * 20000-deep array cannot overflow the stack), holds only the path to the value it is at, and
 * stops as soon as a limit is passed, so refusing a huge value costs no more than walking the
 * allowed amount.
 *
 * Size is counted in bytes as the main thread pays for them: every value (number, string,
 * boolean, null, array, object) 8 bytes, plus a string's length and an object's keys' lengths.
 */

/** Bytes every value counts for, a string's characters on top. */
export const VALUE_BYTES = 8;

export interface VariablesSize {
  /** Deepest nesting: 1 for `{ "x": 1 }`, 2 for `{ "x": [1] }` (the variables object itself is 0). */
  depth: number;
  bytes: number;
  /** Values walked: numbers, strings, booleans, nulls, arrays and objects. */
  values: number;
}

export type VariablesLimit = { setting: 'MAX_VARIABLES_DEPTH'; limit: number } | { setting: 'MAX_VARIABLES_BYTES'; limit: number };

/**
 * Measures `variables`, or says which limit they pass (the walk stops there: the size of what
 * is past it is never known). Cost: at most `maxBytes / 8` steps.
 */
export function measureVariables(variables: unknown, maxDepth: number, maxBytes: number): VariablesSize | VariablesLimit {
  const size: VariablesSize = { depth: 0, bytes: 0, values: 0 };
  if (variables === null || typeof variables !== 'object') return size;
  const tooBig: VariablesLimit = { setting: 'MAX_VARIABLES_BYTES', limit: maxBytes };
  // One frame per open array or object (its items or keys, and how far it has been read): the
  // walk holds the path to the current value, never a copy of a wide array's elements.
  const items: unknown[][] = [];
  const objects: Array<Record<string, unknown> | null> = [];
  const next: number[] = [];
  const open = (container: object): VariablesLimit | undefined => {
    if (Array.isArray(container)) {
      // A long array is refused from its length, before any element is looked at.
      if (size.bytes + container.length * VALUE_BYTES > maxBytes) return tooBig;
      items.push(container);
      objects.push(null);
    } else {
      items.push(Object.keys(container));
      objects.push(container as Record<string, unknown>);
    }
    next.push(0);
    return undefined;
  };
  open(variables);
  while (items.length > 0) {
    const top = items.length - 1;
    const i = next[top]!;
    const frame = items[top]!;
    if (i >= frame.length) {
      items.pop();
      objects.pop();
      next.pop();
      continue;
    }
    next[top] = i + 1;
    const object = objects[top];
    let value: unknown;
    if (object) {
      const key = frame[i] as string;
      size.bytes += key.length;
      value = object[key];
    } else value = frame[i];
    const depth = items.length;
    if (depth > size.depth) {
      if (depth > maxDepth) return { setting: 'MAX_VARIABLES_DEPTH', limit: maxDepth };
      size.depth = depth;
    }
    size.values++;
    size.bytes += typeof value === 'string' ? VALUE_BYTES + value.length : VALUE_BYTES;
    if (size.bytes > maxBytes) return tooBig;
    if (value !== null && typeof value === 'object' && open(value)) return tooBig;
  }
  return size;
}

export function isVariablesLimit(result: VariablesSize | VariablesLimit): result is VariablesLimit {
  return 'setting' in result;
}
