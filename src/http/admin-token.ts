/**
 * The admin token check. Compared in constant time (over SHA-256 digests, so the length of the
 * token leaks nothing either), and never true when the server has no token configured.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export function isAdminRequest(authorization: string | undefined, adminToken: string | undefined): boolean {
  if (!adminToken || !authorization) return false;
  const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  if (!match) return false;
  const given = createHash('sha256').update(match[1]!).digest();
  const expected = createHash('sha256').update(adminToken).digest();
  return timingSafeEqual(given, expected);
}
