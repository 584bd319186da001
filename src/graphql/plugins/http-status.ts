/**
 * HTTP semantics for load shedding: a response carrying an OVERLOADED error is sent as 503 with a
 * Retry-After header, so load balancers and HTTP clients back off and retry without parsing the
 * GraphQL body. The body still holds whatever data the request did get.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '../errors.ts';
import type { RequestContext } from '../context.ts';

export function httpStatusPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          contextValue.predictions.dispose();
          if (response.body.kind !== 'single') return;
          const overloaded = response.body.singleResult.errors?.find((e) => e.extensions?.code === ErrorCode.OVERLOADED);
          if (!overloaded) return;
          response.http.status = 503;
          response.http.headers.set('retry-after', String(overloaded.extensions?.retryAfterSeconds ?? 1));
        },
      };
    },
  };
}
