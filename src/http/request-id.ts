/**
 * Request ids: the client's `x-request-id` when it is a sane token (so client and server logs
 * can be matched), else a new one. A new id is this process's random prefix and a counter: unique
 * across processes and restarts, and far cheaper than a UUID per request.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SANE = /^[\w.:-]{1,128}$/;

/** A generator of request ids for Fastify's `genReqId`. */
export function requestIds(): (req: IncomingMessage) => string {
  const prefix = randomBytes(6).toString('hex');
  let next = 0;
  return (req) => {
    const header = req.headers['x-request-id'];
    const given = Array.isArray(header) ? header[0] : header;
    if (given !== undefined && SANE.test(given)) return given;
    return `${prefix}-${(++next).toString(36)}`;
  };
}
