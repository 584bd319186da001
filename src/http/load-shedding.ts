/**
 * Load shedding at the door, for overload the model queues cannot see: when requests arrive
 * faster than the main thread can parse and answer them (a cheap model, cache hits), they wait in
 * socket buffers, where no queue limit or deadline applies, and clients time out. So the event
 * loop's delay is watched (@fastify/under-pressure); while it is over MAX_EVENT_LOOP_DELAY_MS,
 * new GraphQL requests are answered 503 OVERLOADED before their body is read, which costs a
 * fraction of serving them, and the loop catches up.
 *
 * Registered inside the GraphQL routes' scope only: probes, /metrics and the pages are never shed.
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES } from '../domain/errors.ts';
import type { Metrics } from '../metrics.ts';

/** How often the delay is measured. */
const SAMPLE_INTERVAL_MS = 100;

export async function shedLoad(scope: FastifyInstance, maxDelayMs: number, metrics: Metrics): Promise<void> {
  if (maxDelayMs <= 0) return;
  await scope.register(underPressure, {
    maxEventLoopDelay: maxDelayMs,
    sampleInterval: SAMPLE_INTERVAL_MS,
    pressureHandler: (_request, reply, _type, value) => {
      metrics.shed.inc();
      // under-pressure reports Infinity when the loop was held so long that no delay sample was
      // taken in the last interval: say "over a whole sample interval" rather than "Infinity".
      const behind = Number.isFinite(Number(value)) ? `${Math.round(Number(value))} ms` : `over ${SAMPLE_INTERVAL_MS} ms`;
      // Answered here, the request goes no further (Fastify stops at a sent reply).
      void reply
        .code(ERROR_CODES.OVERLOADED.status)
        .header('retry-after', '1')
        .send({
          errors: [
            {
              message: `the server is overloaded: its event loop is ${behind} behind, over MAX_EVENT_LOOP_DELAY_MS (${maxDelayMs} ms); retry in 1 s`,
              extensions: { code: 'OVERLOADED', retryAfterSeconds: 1 },
            },
          ],
        });
    },
  });
}
