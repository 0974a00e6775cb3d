import { hashPassword, type ScryptParams } from '../../src/auth/password.js';
import { issueServiceToken } from '../../src/auth/service-token.js';
import { UserStore } from '../../src/auth/users.js';

const FAST_SCRYPT: ScryptParams = { cost: 2 ** 10, blockSize: 8, parallelism: 1 };

/**
 * Sets up the users a deployment needs before workers run against a configured SMSP: the first
 * admin (a person) and a service account for unattended work, and returns the environment that
 * signs a process in as that service account.
 */
export async function provisionServiceAccount(dataDir: string, roles: Array<'operator' | 'tracer'> = ['operator', 'tracer']): Promise<Record<string, string>> {
  const users = await UserStore.open(dataDir);
  if (await users.isEmpty()) {
    await users.add({ id: 'admin', kind: 'person', roles: ['admin'], passwordHash: await hashPassword('synthetic-admin-passphrase', FAST_SCRYPT) }, { firstOnly: true });
  }
  const { token, hash } = issueServiceToken();
  const id = `svc-${Math.random().toString(36).slice(2, 8)}`;
  await users.add({ id, kind: 'service', roles, tokenHash: hash });
  return { PDS_TRACE_SERVICE_ACCOUNT: id, PDS_TRACE_SERVICE_TOKEN: token };
}
