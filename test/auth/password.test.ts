import { describe, expect, it } from 'vitest';
import { checkPasswordPolicy, DEFAULT_SCRYPT_PARAMS, hashPassword, MIN_PASSWORD_LENGTH, PasswordPolicyError, verifyPassword } from '../../src/auth/password.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from './fixtures.js';

describe('password hashing', () => {
  it('defaults to at least OWASP’s scrypt minimum (N=2^17, r=8, p=1)', () => {
    expect(DEFAULT_SCRYPT_PARAMS.cost).toBeGreaterThanOrEqual(2 ** 17);
    expect(DEFAULT_SCRYPT_PARAMS.blockSize).toBeGreaterThanOrEqual(8);
  });

  it('stores the scrypt parameters and a per-hash salt with the key', async () => {
    const hash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    expect(hash).toMatch(/^scrypt\$N=1024,r=8,p=1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(hash).not.toContain(GOOD_PASSWORD);
    const again = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    expect(again).not.toBe(hash);
  });

  it('verifies the right password and refuses any other', async () => {
    const hash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    expect(await verifyPassword(GOOD_PASSWORD, hash)).toBe(true);
    expect(await verifyPassword(`${GOOD_PASSWORD} `, hash)).toBe(false);
    expect(await verifyPassword('Correct horse battery', hash)).toBe(false);
  });

  it('verifies with the parameters stored in the hash, not today’s defaults', async () => {
    const hash = await hashPassword(GOOD_PASSWORD, { cost: 2 ** 11, blockSize: 4, parallelism: 2 });
    expect(await verifyPassword(GOOD_PASSWORD, hash)).toBe(true);
  });

  it('treats the same text in composed and decomposed Unicode as one password', async () => {
    const composed = 'caf\u00e9 au lait please';
    const hash = await hashPassword(composed, FAST_SCRYPT);
    expect(await verifyPassword('cafe\u0301 au lait please', hash)).toBe(true);
  });

  it('never matches a damaged or foreign stored hash, nor one with absurd costs', async () => {
    const hash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    const parts = hash.split('$');
    const flipped = [...parts.slice(0, 3), Buffer.from(Buffer.from(parts[3]!, 'base64').map((b) => b ^ 1)).toString('base64')].join('$');
    expect(await verifyPassword(GOOD_PASSWORD, flipped)).toBe(false);
    expect(await verifyPassword(GOOD_PASSWORD, '$2b$12$abcdefghijklmnopqrstuv')).toBe(false);
    expect(await verifyPassword(GOOD_PASSWORD, hash.replace('N=1024', 'N=1073741824'))).toBe(false);
  });

  it(`requires at least ${MIN_PASSWORD_LENGTH} characters, counted as a person counts them`, async () => {
    await expect(hashPassword('elevenchars', FAST_SCRYPT)).rejects.toThrow(PasswordPolicyError);
    expect(() => checkPasswordPolicy('elevenchars')).toThrow(/at least 12 characters/);
    expect(() => checkPasswordPolicy('twelve chars')).not.toThrow();
    // Eleven emoji are 22 UTF-16 code units but eleven characters.
    expect(() => checkPasswordPolicy('🔒'.repeat(11))).toThrow(PasswordPolicyError);
    expect(() => checkPasswordPolicy('x'.repeat(1025))).toThrow(/at most 1024/);
  });

  it('names the rule, never the password, when refusing', () => {
    const err = (() => {
      try {
        checkPasswordPolicy('tiny');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(PasswordPolicyError);
    expect((err as PasswordPolicyError).rule).toBe('too_short');
    expect((err as Error).message).not.toContain('tiny');
  });
});
