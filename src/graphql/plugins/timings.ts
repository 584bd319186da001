/**
 * Records each request's GraphQL phases (parse, validate, execution) and reports every phase:
 * into the `predictql_request_phase_seconds` histograms, into one structured log line per request
 * (debug level, with the request id), and into `extensions.timings` of the response when the
 * client sent `x-predictql-timings: 1`. Serialization cannot time itself before it happens; for a
 * response that reports timings it is measured by serializing the result once beforehand.
 */
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics.ts';
import { PHASES } from '../../observability/timings.ts';
import type { RequestContext } from '../context.ts';

export const TIMINGS_HEADER = 'x-predictql-timings';

export function timingsPlugin(metrics: Metrics, logger: Logger): ApolloServerPlugin<RequestContext> {
  const span = (timings: RequestContext['timings'], phase: 'graphqlParse' | 'graphqlValidate' | 'execution') => {
    const started = performance.now();
    return async () => timings.add(phase, performance.now() - started);
  };
  return {
    async requestDidStart({ contextValue }) {
      const { timings } = contextValue;
      return {
        async parsingDidStart() {
          return span(timings, 'graphqlParse');
        },
        async validationDidStart() {
          return span(timings, 'graphqlValidate');
        },
        async executionDidStart() {
          const end = span(timings, 'execution');
          return { executionDidEnd: end };
        },
        async willSendResponse({ response, request, contextValue: context }) {
          if (response.body.kind !== 'single') return;
          const wanted = request.http?.headers.get(TIMINGS_HEADER);
          if (wanted === '1' || wanted === 'true') {
            const started = performance.now();
            JSON.stringify(response.body.singleResult);
            timings.add('serialization', performance.now() - started);
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, timings: timings.report(), requestId: context.requestId };
          }
          metrics.requestSeconds.observe((performance.now() - timings.startedAt) / 1000);
          for (const phase of PHASES) {
            const ms = timings.ms[phase];
            // Buffered, handed to prom-client when /metrics is read.
            if (ms !== undefined) metrics.observePhase(phase, ms / 1000);
          }
          // Built only when someone reads it: this runs for every request.
          if (logger.isLevelEnabled('debug')) {
            logger.debug({ requestId: context.requestId, operation: request.operationName ?? undefined, errors: response.body.singleResult.errors?.length ?? 0, ...timings.report() }, 'request');
          }
        },
      };
    },
  };
}
