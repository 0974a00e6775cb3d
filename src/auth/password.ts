import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (memory-hard, in node:crypto). Each hash carries its own random salt
 * and its cost parameters, so verification never depends on today's defaults and the defaults can
 * be raised without invalidating stored passwords. Stored form:
 *
 *   scrypt$N=<cost>,r=<blockSize>,p=<parallelism>$<salt base64>$<key base64>
 *
 * Defaults are OWASP's scrypt minimum (Password Storage Cheat Sheet: N=2^17, r=8, p=1, about
 * 128 MiB and a few hundred milliseconds): one hash per sign-in is cheap for us and dear for
 * someone trying guesses against a stolen users.json.
 */

export interface ScryptParams {
  /** CPU/memory cost N, a power of two. */
  cost: number;
  /** Block size r. */
  blockSize: number;
  /** Parallelism p. */
  parallelism: number;
}

export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ cost: 2 ** 17, blockSize: 8, parallelism: 1 });

/** IF Common Client Requirements Appendix A asks for ID + password; length is what resists guessing. */
export const MIN_PASSWORD_LENGTH = 12;
/** Bounds the work an attacker can make one sign-in do; no pass phrase needs more. */
export const MAX_PASSWORD_LENGTH = 1024;

const SALT_BYTES = 16;
const KEY_BYTES = 32;

/** The password breaks a rule; the message names the rule, never the password. */
export class PasswordPolicyError extends Error {
  override readonly name = 'PasswordPolicyError';
  constructor(readonly rule: 'too_short' | 'too_long') {
    super(rule === 'too_short' ? `a password needs at least ${MIN_PASSWORD_LENGTH} characters` : `a password may have at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}

/** Characters as a person counts them (code points), so a pass phrase in any script is measured fairly. */
function length(password: string): number {
  return [...password].length;
}

export function checkPasswordPolicy(password: string): void {
  if (length(password) < MIN_PASSWORD_LENGTH) throw new PasswordPolicyError('too_short');
  if (length(password) > MAX_PASSWORD_LENGTH) throw new PasswordPolicyError('too_long');
}

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.cost,
    r: params.blockSize,
    p: params.parallelism,
    // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is below the defaults' need.
    maxmem: 256 * params.cost * params.blockSize,
  };
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a password that meets the policy (checked here too). */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  checkPasswordPolicy(password);
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, params);
  return `scrypt$N=${params.cost},r=${params.blockSize},p=${params.parallelism}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

const STORED = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

function parseHash(stored: string): ParsedHash | undefined {
  const m = STORED.exec(stored);
  if (!m) return undefined;
  const params = { cost: Number(m[1]), blockSize: Number(m[2]), parallelism: Number(m[3]) };
  // Refuse parameters no hash of ours has, rather than let an edited file make sign-in hang.
  if (params.cost > 2 ** 20 || params.blockSize > 32 || params.parallelism > 16) return undefined;
  return { params, salt: Buffer.from(m[4]!, 'base64'), key: Buffer.from(m[5]!, 'base64') };
}

/**
 * True when `password` matches `stored`. The comparison takes the same time whatever bytes differ;
 * an unreadable stored hash never matches.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed || length(password) > MAX_PASSWORD_LENGTH) return false;
  const key = await scrypt(password, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}
