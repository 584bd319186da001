/**
 * graphql-js's `subscribe`, without coercing the subscription's inputs again for every event.
 *
 * graphql-js runs each event as an `execute` of the whole operation with the raw variables, so a
 * predictStream of N inputs coerces all N inputs N times: O(N^2), about 3 s of the event loop for
 * 1000 iris rows and minutes for 10,000. The inputs matter only to the source stream, made once
 * (createSourceEventStream); an event's execution needs the root field's selection alone (its
 * resolver returns the event). So events run a copy of the operation whose root fields' list
 * arguments are empty lists and whose variables used nowhere else are gone: each event coerces
 * what its selection set uses, whatever the number of inputs.
 */
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  Kind,
  visit,
  type ArgumentNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
  type TypeNode,
} from 'graphql';

export async function subscribeOnce(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source;
  const eventArgs: ExecutionArgs = { ...args, document: eventDocument(args.document, args.operationName) };
  return mapEvents(source, (payload) => execute({ ...eventArgs, rootValue: payload }) as ExecutionResult | Promise<ExecutionResult>);
}

const EMPTY_LIST = { kind: Kind.LIST, values: [] } as const;

const isListType = (type: TypeNode): boolean => (type.kind === Kind.NON_NULL_TYPE ? isListType(type.type) : type.kind === Kind.LIST_TYPE);

/**
 * The document events execute: the operation with its root fields' list arguments (inline or
 * from a list-typed variable) made empty, and without the variable definitions nothing uses then.
 */
export function eventDocument(document: DocumentNode, operationName?: string | null): DocumentNode {
  const operation = getOperationAST(document, operationName);
  if (!operation) return document;
  const listVariables = new Set(operation.variableDefinitions?.filter((d) => isListType(d.type)).map((d) => d.variable.name.value));
  const emptied = (argument: ArgumentNode): ArgumentNode =>
    argument.value.kind === Kind.LIST || (argument.value.kind === Kind.VARIABLE && listVariables.has(argument.value.name.value)) ? { ...argument, value: EMPTY_LIST } : argument;
  const rootFields = operation.selectionSet.selections.map((selection) => (selection.kind === Kind.FIELD && selection.arguments?.length ? { ...selection, arguments: selection.arguments.map(emptied) } : selection));
  const rewritten: OperationDefinitionNode = { ...operation, selectionSet: { ...operation.selectionSet, selections: rootFields } };
  // Variables still used: in the rewritten operation and in every fragment (a fragment may be
  // spread anywhere in it).
  const used = new Set<string>();
  const collect = (node: object) =>
    visit(node as DocumentNode, {
      VariableDefinition: () => false,
      Variable: (variable) => {
        used.add(variable.name.value);
      },
    });
  collect(rewritten.selectionSet);
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) collect(definition);
  const kept: OperationDefinitionNode = { ...rewritten, variableDefinitions: operation.variableDefinitions?.filter((d) => used.has(d.variable.name.value)) };
  return { ...document, definitions: document.definitions.map((d) => (d === operation ? kept : d)) };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Each event of `source` through `run`, as graphql-js maps them: return() and throw() go to the
 * source at once (leaving a stream must not wait for a pending next()).
 */
function mapEvents<T, U>(source: AsyncIterable<T>, run: (event: T) => U | Promise<U>): AsyncGenerator<U> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async () => {
    try {
      await iterator.return?.();
    } catch {
      // The source's own failure to close changes nothing for the client.
    }
  };
  const mapped = async (result: IteratorResult<T>): Promise<IteratorResult<U>> => {
    if (result.done) return { value: undefined, done: true };
    try {
      return { value: await run(result.value), done: false };
    } catch (error) {
      await close();
      throw error;
    }
  };
  const generator: AsyncGenerator<U> = {
    next: async () => mapped(await iterator.next()),
    return: async () => (iterator.return ? mapped(await iterator.return()) : { value: undefined, done: true }),
    throw: async (error: unknown) => {
      if (iterator.throw) return mapped(await iterator.throw(error));
      throw error;
    },
    [Symbol.asyncIterator]() {
      return generator;
    },
    [Symbol.asyncDispose]: async () => {
      await generator.return(undefined);
    },
  } as AsyncGenerator<U>;
  return generator;
}
