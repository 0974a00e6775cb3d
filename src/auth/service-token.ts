import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Credentials of service accounts (watched folders, schedules, workers): a random 256-bit token,
 * shown once when the account is made and kept only as its SHA-256. A token is not a password: it
 * has full entropy, so a fast hash is enough (nobody can guess it from the hash), and it is never
 * typed at a prompt, so a service account cannot sign in interactively.
 */

const PREFIX = 'pdst_';

export interface IssuedToken {
  /** Give this to the service (its environment or credential file); it is not stored. */
  token: string;
  /** Store this. */
  hash: string;
}

export function hashServiceToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function issueServiceToken(): IssuedToken {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashServiceToken(token) };
}

/** Compares in constant time; a malformed token never matches. */
export function verifyServiceToken(token: string, storedHash: string): boolean {
  if (!token.startsWith(PREFIX) || !/^[0-9a-f]{64}$/.test(storedHash)) return false;
  return timingSafeEqual(Buffer.from(hashServiceToken(token), 'hex'), Buffer.from(storedHash, 'hex'));
}
