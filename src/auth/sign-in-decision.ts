import type { SignInRefusal } from './authenticate.js';
import type { UserRecord } from './users.js';

/**
 * The password sign-in decision for one account, as a pure function of the account's record as
 * it stands under the user store's lock, the hash the offered password was checked against, the
 * result of that check and the time. authenticate.ts runs scrypt *outside* the lock (it is slow,
 * and the lock covers the whole store) and then makes this decision *inside* it, so:
 *
 * - the locked, disabled and password checks and the failure/success bookkeeping are one step
 *   against the current record, never against a copy read before other attempts landed — a
 *   success cannot clear a lockout that concurrent failures set, and N parallel wrong passwords
 *   count N;
 * - the scrypt result is only used if the record still holds the hash it was computed against
 *   (compare-and-set on `passwordHash`); an admin's new password in between sends the attempt
 *   back to hash again ('rehash'). The failure count needs no such check: it is read and written
 *   here, under the lock.
 *
 * The result is what a serial order of the same attempts would give, whatever the interleaving.
 */

export const LOCKOUT_THRESHOLD = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;

export type PasswordDecision =
  | { kind: 'admit' }
  | { kind: 'refuse'; reason: SignInRefusal; lockedNow: boolean }
  /** The password hash changed since it was checked: check again against `passwordHash`. */
  | { kind: 'rehash'; passwordHash: string };

export function lockedAt(user: Pick<UserRecord, 'lockoutUntil'>, now: Date): boolean {
  return user.lockoutUntil !== undefined && Date.parse(user.lockoutUntil) > now.getTime();
}

/**
 * Refusals that need no password check, decided from any reading of the record. Done before
 * hashing so a locked account costs no scrypt, and again under the lock.
 */
export function refusalWithoutPassword(user: UserRecord, now: Date): SignInRefusal | undefined {
  if (user.kind === 'service' || user.passwordHash === undefined) return 'service_account';
  if (user.disabled) return 'disabled';
  if (lockedAt(user, now)) return 'locked';
  return undefined;
}

/** Decides and applies (to `user`, the record under the lock) one password attempt. */
export function decidePasswordAttempt(user: UserRecord, checkedHash: string, matches: boolean, now: Date): PasswordDecision {
  const refusal = refusalWithoutPassword(user, now);
  if (refusal) return { kind: 'refuse', reason: refusal, lockedNow: false };
  if (user.passwordHash !== checkedHash) return { kind: 'rehash', passwordHash: user.passwordHash! };
  if (matches) {
    // Only write when something changes, so a routine sign-in leaves the store as it was.
    if (user.failedAttempts !== 0) user.failedAttempts = 0;
    if (user.lockoutUntil !== undefined) delete user.lockoutUntil;
    return { kind: 'admit' };
  }
  // A lockout that has run out starts a fresh count.
  if (user.lockoutUntil !== undefined) {
    user.failedAttempts = 0;
    delete user.lockoutUntil;
  }
  user.failedAttempts += 1;
  const lockedNow = user.failedAttempts >= LOCKOUT_THRESHOLD;
  if (lockedNow) user.lockoutUntil = new Date(now.getTime() + LOCKOUT_MS).toISOString();
  return { kind: 'refuse', reason: 'bad_password', lockedNow };
}
