/**
 * Bearer token checks (the admin token, the metrics token). Compared in constant time (over
 * SHA-256 digests, so the length of the token leaks nothing either), and never true when the
 * server has no token configured.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** True when `authorization` is `Bearer <token>` with the configured token. */
export function bearerMatches(authorization: string | undefined, token: string | undefined): boolean {
  if (!token || !authorization) return false;
  const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  if (!match) return false;
  const given = createHash('sha256').update(match[1]!).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

export function isAdminRequest(authorization: string | undefined, adminToken: string | undefined): boolean {
  return bearerMatches(authorization, adminToken);
}
