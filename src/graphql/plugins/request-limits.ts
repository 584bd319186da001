/**
 * Limits on what a request sends, checked first, before Apollo hashes, parses or coerces anything:
 *
 * - the query text, MAX_QUERY_BYTES: inputs belong in variables, so a real document is a few KB.
 *   A 15 MB query of comment padding is refused here instead of being hashed, parsed and cached
 *   (and, sent as an automatic persisted query, registered);
 * - the variables' depth and size, MAX_VARIABLES_DEPTH and MAX_VARIABLES_BYTES, walked once
 *   iteratively and only up to the limit (src/graphql/variables-size.ts).
 *
 * Apollo gives requestDidStart no way to refuse a request (an error thrown there becomes a 500,
 * "Internal server error"): the refused request's text is swapped for a one-field document and
 * its variables and extensions dropped, so Apollo has nothing big left to work on, and the
 * refusal is raised from didResolveOperation, where Apollo answers a thrown error with its own
 * status (400) and code. The plugin is independent of the HTTP framework in front.
 */
import type { ApolloServerPlugin, GraphQLRequest } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import type { Metrics } from '../../metrics.ts';
import type { RequestContext } from '../context.ts';
import { graphQLError } from '../errors.ts';
import { isVariablesLimit, measureVariables, VALUE_BYTES, type VariablesSize } from '../variables-size.ts';

export interface RequestLimits {
  maxQueryBytes: number;
  maxVariablesDepth: number;
  maxVariablesBytes: number;
}

/** What a refused request is left to run: it parses and validates in microseconds, from Apollo's document cache. */
const REFUSED_REQUEST_QUERY = '{ __typename }';

/** The variables' size each request was measured at, for the cost limit (src/graphql/plugins/cost-limit.ts). */
const measured = new WeakMap<GraphQLRequest, VariablesSize>();

export function measuredVariables(request: GraphQLRequest): VariablesSize | undefined {
  return measured.get(request);
}

/** The UTF-8 length of `text`, or a number over `max` as soon as it is known to be over. */
function utf8BytesUpTo(text: string, max: number): number {
  if (text.length * 3 <= max) return text.length; // under the limit however it encodes: skip the count
  return Buffer.byteLength(text, 'utf8');
}

/** Why the request is refused, or undefined when it is within every limit. */
export function checkRequest(request: GraphQLRequest, limits: RequestLimits): { setting: string; error: GraphQLError } | undefined {
  if (typeof request.query === 'string') {
    const bytes = utf8BytesUpTo(request.query, limits.maxQueryBytes);
    if (bytes > limits.maxQueryBytes) {
      return {
        setting: 'MAX_QUERY_BYTES',
        error: graphQLError(
          'QUERY_LIMIT_EXCEEDED',
          `the query text is ${bytes} bytes, over the limit of ${limits.maxQueryBytes} (MAX_QUERY_BYTES). Inputs belong in variables, not in the query text: declare them ($input: PredictionInput!) and send their values in "variables".`,
          { setting: 'MAX_QUERY_BYTES', limit: limits.maxQueryBytes, found: bytes },
          true,
        ),
      };
    }
  }
  const size = measureVariables(request.variables, limits.maxVariablesDepth, limits.maxVariablesBytes);
  if (isVariablesLimit(size)) {
    const what =
      size.setting === 'MAX_VARIABLES_DEPTH'
        ? `the variables nest deeper than ${size.limit} levels (MAX_VARIABLES_DEPTH)`
        : `the variables hold more than ${size.limit} bytes (MAX_VARIABLES_BYTES; every value counts ${VALUE_BYTES} bytes, plus a string's characters and an object's keys)`;
    return {
      setting: size.setting,
      error: graphQLError('VARIABLES_LIMIT_EXCEEDED', `${what}. Send large batches as several requests, and tensors as dataBase64.`, { setting: size.setting, limit: size.limit }, true),
    };
  }
  measured.set(request, size);
  return undefined;
}

export function requestLimitsPlugin(limits: RequestLimits, metrics: Metrics): ApolloServerPlugin<RequestContext> {
  return {
    // Not async: the request must be swapped before any other plugin's requestDidStart reads it
    // (Apollo calls them in order, this plugin first).
    requestDidStart({ request }) {
      const refused = checkRequest(request, limits);
      if (!refused) return Promise.resolve();
      metrics.queriesRefused.inc({ limit: refused.setting });
      request.query = REFUSED_REQUEST_QUERY;
      request.variables = undefined;
      request.operationName = undefined;
      request.extensions = undefined; // no persisted query is registered or looked up
      return Promise.resolve({
        didResolveOperation() {
          return Promise.reject(refused.error);
        },
      });
    },
  };
}
