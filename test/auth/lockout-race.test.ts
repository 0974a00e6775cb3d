import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileAuditStore } from '../../src/audit/file-store.js';
import { auditDir } from '../../src/audit/store.js';
import { AuthenticationError, LOCKOUT_THRESHOLD, signInWithPassword } from '../../src/auth/authenticate.js';
import { hashPassword } from '../../src/auth/password.js';
import { auditLedger, userStoreDigest } from '../../src/auth/store-ledger.js';
import { UserStore } from '../../src/auth/users.js';
import { tempFolder } from '../audit/fixtures.js';
import { recordedUsers } from '../support/accounts.js';
import { FAST_SCRYPT, GOOD_PASSWORD, RecordingAudit } from './fixtures.js';

const run = promisify(execFile);

let folder: { dir: string; remove: () => Promise<void> };

/** What one attempt came to: `admitted` or the refusal reason, and the audit kinds it recorded. */
interface Attempt {
  outcome: string;
  kinds: string[];
}

beforeEach(async () => {
  folder = await tempFolder('pds-trace-lockout-race-');
  const users = await recordedUsers(folder.dir);
  const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
  await users.add({ id: 'ada', roles: ['admin'], kind: 'person', passwordHash });
  await users.add({ id: 'tess', roles: ['tracer'], kind: 'person', passwordHash });
  // One failure short of the lockout.
  for (let i = 1; i < LOCKOUT_THRESHOLD; i++) await attemptInProcess('tess', `wrong ${i}`);
  expect((await users.get('tess'))!.failedAttempts).toBe(LOCKOUT_THRESHOLD - 1);
});

afterEach(async () => {
  await folder.remove();
});

/** Each attempt with its own store instance, as separate requests or processes would have. */
async function attemptInProcess(userId: string, password: string): Promise<Attempt> {
  const audit = new RecordingAudit();
  const users = await recordedUsers(folder.dir);
  try {
    await signInWithPassword({ users, audit, passwordParams: FAST_SCRYPT }, userId, password);
    return { outcome: 'admitted', kinds: audit.kinds() };
  } catch (err) {
    if (!(err instanceof AuthenticationError)) throw err;
    return { outcome: err.reason, kinds: audit.kinds() };
  }
}

async function attemptInChild(userId: string, password: string): Promise<Attempt> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/auth/sign-in-child.ts', folder.dir, userId, password], { cwd: process.cwd() });
  return JSON.parse(stdout) as Attempt;
}

/** Ten wrong passwords and the right one, all at once. */
function mixedAttempts(attempt: (userId: string, password: string) => Promise<Attempt>): Promise<Attempt[]> {
  const passwords = Array.from({ length: 10 }, (_, i) => `wrong parallel ${i}`);
  passwords.splice(5, 0, GOOD_PASSWORD);
  return Promise.all(passwords.map((p) => attempt('tess', p)));
}

/**
 * With four failures recorded, a serial order of 10 wrong + 1 right leaves exactly one of two
 * outcomes: the right one first (admitted, count reset, then five wrongs lock the account and five
 * more are refused as locked), or a wrong one first (it locks; all ten others, the right one
 * included, are refused as locked). Either way: one lockout, five failures counted, locked.
 */
async function expectSerialOutcome(attempts: Attempt[]): Promise<void> {
  const count = (outcome: string) => attempts.filter((a) => a.outcome === outcome).length;
  const admitted = count('admitted');
  expect(admitted).toBeLessThanOrEqual(1);
  if (admitted === 1) {
    expect([count('bad_password'), count('locked')]).toEqual([LOCKOUT_THRESHOLD, 10 - LOCKOUT_THRESHOLD]);
  } else {
    expect([count('bad_password'), count('locked')]).toEqual([1, 10]);
  }
  expect(attempts.flatMap((a) => a.kinds).filter((k) => k === 'lockout')).toHaveLength(1);
  const tess = (await (await UserStore.open(folder.dir)).get('tess'))!;
  expect(tess.failedAttempts).toBe(LOCKOUT_THRESHOLD);
  expect(Date.parse(tess.lockoutUntil!)).toBeGreaterThan(Date.now());
  // The trail's latest digest is the state the race left: each write was recorded in order.
  const trail = await openFileAuditStore(auditDir(folder.dir));
  expect(await auditLedger({ sink: trail, trail }).latestDigest!()).toBe(userStoreDigest(await (await UserStore.open(folder.dir)).list()));
  // And nobody gets in afterwards while the lockout lasts.
  expect((await attemptInProcess('tess', GOOD_PASSWORD)).outcome).toBe('locked');
}

describe('the lockout race', () => {
  it('lets nobody in while locked and counts as a serial order would, with attempts from separate store instances', async () => {
    await expectSerialOutcome(await mixedAttempts(attemptInProcess));
  });

  it('does the same with each attempt in its own process', { timeout: 60_000 }, async () => {
    await expectSerialOutcome(await mixedAttempts(attemptInChild));
  });
});
