/**
 * A subscription sent to POST or GET /graphql is refused with BAD_REQUEST (HTTP 400) naming
 * where it belongs. Apollo Server carries no subscriptions: left to run, graphql-js would
 * execute `predictStream` as a query field with no resolver for its stream, and the client would
 * get an INTERNAL_SERVER_ERROR. The stream transports (graphql-ws, graphql-sse) run them.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestContext } from '../context.ts';
import { graphQLError } from '../errors.ts';

export function subscriptionsElsewherePlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw graphQLError('BAD_REQUEST', 'subscriptions are carried over WebSocket (ws://HOST:PORT/graphql, graphql-transport-ws) or Server-Sent Events (/graphql/stream), not by POST or GET /graphql', {}, true);
        },
      };
    },
  };
}
