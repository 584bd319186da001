/**
 * Internal errors are masked in responses (format-error.ts); this plugin puts their details in the
 * log, with the request id the client was given, so they can still be found.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from 'pino';
import type { RequestContext } from '../context.ts';

export function errorLogPlugin(logger: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (code !== undefined && code !== 'INTERNAL_SERVER_ERROR') continue;
            const status = (error.extensions?.http as { status?: number } | undefined)?.status;
            if (status !== undefined && status >= 400 && status < 500) continue; // the client's error, answered as such
            logger.error({ err: error.originalError ?? error, path: error.path, requestId: contextValue?.requestId }, 'internal error while answering a request');
          }
        },
      };
    },
  };
}
