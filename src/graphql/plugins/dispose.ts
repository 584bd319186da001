/**
 * Ends what a request holds once its response is ready: the deadline timers of its predictions.
 * (The HTTP status of an OVERLOADED answer, 503 with Retry-After, comes from the error itself:
 * src/graphql/errors.ts puts it in `extensions.http`, which Apollo applies.)
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestContext } from '../context.ts';

export function disposePlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue }) {
          contextValue.predictions.dispose();
        },
      };
    },
  };
}
