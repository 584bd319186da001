/**
 * CORS for frontends on other origins (@fastify/cors): off unless CORS_ORIGINS lists origins (or
 * is `*`). A listed origin gets the CORS headers on every route and its preflights answered; any
 * other origin gets none, so its browser refuses to hand the answer to the page. Credentials
 * (cookies, HTTP auth) only with CORS_CREDENTIALS, and never with `*` (config.ts refuses that).
 */
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

export interface CorsSettings {
  /** Origins allowed (`scheme://host[:port]`), or `*` for any; empty: no CORS headers at all. */
  origins: readonly string[] | '*';
  credentials: boolean;
}

/** Request headers a page may send: JSON bodies, the admin token, and the server's own headers. */
export const CORS_ALLOWED_HEADERS = ['content-type', 'authorization', 'x-request-id', 'x-predictql-timings', 'apollo-require-preflight', 'x-apollo-operation-name'];
/** Response headers a page may read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['x-request-id', 'x-predictql-process', 'server-timing', 'retry-after'];

export async function allowCrossOrigin(app: FastifyInstance, settings: CorsSettings): Promise<void> {
  if (settings.origins !== '*' && settings.origins.length === 0) return;
  await app.register(cors, {
    origin: settings.origins === '*' ? '*' : [...settings.origins],
    credentials: settings.credentials,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    // Browsers cache a preflight this long (Chromium caps it at 2 hours).
    maxAge: 7200,
  });
}
