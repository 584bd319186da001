/** Structured JSON logs (pino) on stdout, one line per event. */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'predictql', level });
}
