/**
 * Internal errors are masked in responses (format-error.ts); this plugin puts their details in the
 * log, with the request id the client was given, so they can still be found.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from 'pino';
import { isUnexpected } from '../../domain/errors.ts';
import type { RequestContext } from '../context.ts';
import { httpStatusOf } from '../format-error.ts';

export function errorLogPlugin(logger: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            // The errors format-error.ts masks for clients: the log gets what they hide.
            if (!isUnexpected(error.extensions?.code, httpStatusOf(error))) continue;
            logger.error({ err: error.originalError ?? error, path: error.path, requestId: contextValue?.requestId }, 'internal error while answering a request');
          }
        },
      };
    },
  };
}
