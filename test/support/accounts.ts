import { openFileAuditStore } from '../../src/audit/file-store.js';
import { auditDir } from '../../src/audit/store.js';
import { hashPassword, type ScryptParams } from '../../src/auth/password.js';
import { openRecordedUserStore } from '../../src/auth/recorded-user-store.js';
import { issueServiceToken } from '../../src/auth/service-token.js';
import type { UserStore } from '../../src/auth/users.js';

const FAST_SCRYPT: ScryptParams = { cost: 2 ** 10, blockSize: 8, parallelism: 1 };

/**
 * The user store of a data folder as pds-trace commands open it: each change's digest recorded
 * in the folder's file audit trail, so the commands a test then runs find users.json as recorded
 * and sign people in. The sanctioned way for tests to set up users; writing users.json directly
 * leaves it unrecorded, and every sign-in is refused until an admin accepts it.
 */
export async function recordedUsers(dataDir: string): Promise<UserStore> {
  const audit = await openFileAuditStore(auditDir(dataDir));
  return openRecordedUserStore(dataDir, { sink: audit, trail: audit });
}

/**
 * Sets up the users a deployment needs before workers run against a configured SMSP: the first
 * admin (a person) and a service account for unattended work, and returns the environment that
 * signs a process in as that service account.
 */
export async function provisionServiceAccount(dataDir: string, roles: Array<'operator' | 'tracer'> = ['operator', 'tracer']): Promise<Record<string, string>> {
  const users = await recordedUsers(dataDir);
  if (await users.isEmpty()) {
    await users.add({ id: 'admin', kind: 'person', roles: ['admin'], passwordHash: await hashPassword('synthetic-admin-passphrase', FAST_SCRYPT) }, { firstOnly: true });
  }
  const { token, hash } = issueServiceToken();
  const id = `svc-${Math.random().toString(36).slice(2, 8)}`;
  await users.add({ id, kind: 'service', roles, tokenHash: hash });
  return { PDS_TRACE_SERVICE_ACCOUNT: id, PDS_TRACE_SERVICE_TOKEN: token };
}
