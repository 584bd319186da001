/**
 * The size of a request's variables, measured before anything else walks them. Apollo coerces
 * variables only at execution, recursively and building an error per bad element; a 15 MB body of
 * nested arrays (15 KB gzipped) held the event loop for seconds there. This walk is iterative (a
 * 20000-deep array cannot overflow the stack) and stops as soon as a limit is passed, so refusing
 * a huge value costs no more than walking the allowed amount.
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
  // Values and their depth side by side, so the stack holds no pair objects.
  const values: unknown[] = [];
  const depths: number[] = [];
  const push = (container: object, depth: number) => {
    if (Array.isArray(container)) {
      for (let i = container.length - 1; i >= 0; i--) {
        values.push(container[i]);
        depths.push(depth);
      }
    } else {
      for (const key in container) {
        if (!Object.hasOwn(container, key)) continue;
        size.bytes += key.length;
        if (size.bytes > maxBytes) break; // the next value popped reports it
        values.push((container as Record<string, unknown>)[key]);
        depths.push(depth);
      }
    }
  };
  push(variables, 1);
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    size.values++;
    if (depth > size.depth) {
      if (depth > maxDepth) return { setting: 'MAX_VARIABLES_DEPTH', limit: maxDepth };
      size.depth = depth;
    }
    size.bytes += typeof value === 'string' ? VALUE_BYTES + value.length : VALUE_BYTES;
    if (size.bytes > maxBytes) return { setting: 'MAX_VARIABLES_BYTES', limit: maxBytes };
    // An array's elements are pushed at once: check its length first, so a million-element
    // array is refused before it is copied onto the stack.
    if (Array.isArray(value)) {
      if (size.bytes + value.length * VALUE_BYTES > maxBytes) return { setting: 'MAX_VARIABLES_BYTES', limit: maxBytes };
      push(value, depth + 1);
    } else if (value !== null && typeof value === 'object') push(value, depth + 1);
  }
  if (size.bytes > maxBytes) return { setting: 'MAX_VARIABLES_BYTES', limit: maxBytes }; // keys alone
  return size;
}

export function isVariablesLimit(result: VariablesSize | VariablesLimit): result is VariablesLimit {
  return 'setting' in result;
}
