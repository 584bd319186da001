/**
 * Structured JSON logs (pino) on stdout, one line per event. Written synchronously: the server
 * logs per lifecycle event, not per request, and a line logged just before process.exit (the
 * shutdown, a fatal startup error) must not be lost in a buffer.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'predictql', level }, pino.destination({ dest: 1, sync: true }));
}
