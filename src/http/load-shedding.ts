/**
 * Load shedding at the door, for overload the model queues cannot see: when requests arrive
 * faster than the main thread can parse and answer them (a cheap model, cache hits), they wait in
 * socket buffers, where no queue limit or deadline applies, and clients time out. So the event
 * loop's delay is watched; while it is over MAX_EVENT_LOOP_DELAY_MS, new GraphQL requests are
 * answered 503 OVERLOADED before their body is read, which costs a fraction of serving them, and
 * the loop catches up. Probes and /metrics are never shed.
 */
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import { ERROR_CODES } from '../domain/errors.ts';
import type { Metrics } from '../metrics.ts';

/** How often the delay is measured. */
const WINDOW_MS = 100;

export interface LoadShedder {
  middleware: RequestHandler;
  close(): void;
}

export function loadShedder(maxDelayMs: number, metrics: Metrics): LoadShedder {
  if (maxDelayMs <= 0) return { middleware: (_req, _res, next) => next(), close: () => undefined };
  let behindMs = 0;
  let lastTick = performance.now();
  // How late this timer fires is how long the loop's turns take now. It is read from the timer
  // itself, not a histogram fed by another timer: the timers phase runs before the poll phase that
  // reads new requests, so a request arriving during a long turn already sees that turn's delay.
  const timer = setInterval(() => {
    const now = performance.now();
    behindMs = Math.max(0, now - lastTick - WINDOW_MS);
    lastTick = now;
  }, WINDOW_MS);
  timer.unref();
  const middleware: RequestHandler = (_req, res, next) => {
    if (behindMs <= maxDelayMs) return next();
    metrics.shed.inc();
    res.setHeader('retry-after', '1');
    res.status(ERROR_CODES.OVERLOADED.status).json({
      errors: [
        {
          message: `the server is overloaded: its event loop is ${Math.round(behindMs)} ms behind, over MAX_EVENT_LOOP_DELAY_MS (${maxDelayMs} ms); retry in 1 s`,
          extensions: { code: 'OVERLOADED', retryAfterSeconds: 1 },
        },
      ],
    });
  };
  return {
    middleware,
    close() {
      clearInterval(timer);
    },
  };
}
