/**
 * Link tokens (docs/design.md §4: a peer presents a token in its hello). The supervisor (or
 * whoever launches the processes) makes one per component and tells each server which tokens to
 * expect from whom.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison, whatever the lengths (both sides are hashed first). */
export function tokensMatch(presented: string, expected: string): boolean {
  const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected)) && expected.length > 0;
}
