import { roleField } from '../audit/event.js';
import type { AuditStore } from '../audit/store.js';
import { AccessDeniedError, requireAccess, type Principal } from '../auth/authorise.js';
import type { UserStore } from '../auth/users.js';
import type { Submitter } from './submitter.js';

/**
 * The service account a schedule names as its owner, as the submitter of its runs: checked at every
 * run (it may have been disabled or lost its role since `sync`), and every event recorded as theirs.
 */

export class AccountRefusedError extends Error {
  override readonly name = 'AccountRefusedError';
}

export async function serviceAccountSubmitter(users: UserStore, audit: AuditStore, accountId: string, origin: string): Promise<Submitter> {
  const account = await users.get(accountId);
  if (!account) throw new AccountRefusedError(`owner "${accountId}" is not an account here: an admin adds it with \`pds-trace users add ${accountId} --service --role tracer\``);
  if (account.kind !== 'service') throw new AccountRefusedError(`owner "${accountId}" is a person; a schedule's owner must be a service account`);
  if (account.disabled) throw new AccountRefusedError(`owner "${accountId}" is disabled: an admin enables it with \`pds-trace users enable ${accountId}\``);
  const principal: Principal = { userId: account.id, roles: account.roles, kind: 'service' };
  try {
    requireAccess(principal, 'cli', 'trace');
  } catch (err) {
    if (err instanceof AccessDeniedError) throw new AccountRefusedError(`owner "${accountId}" may not submit batches: give it the tracer role`);
    throw err;
  }
  const role = roleField(principal.roles);
  return {
    principal,
    origin,
    record: async (events) => {
      const time = new Date().toISOString();
      await audit.append(events.map((e) => ({ ...e, time, user: principal.userId, role, origin })));
    },
  };
}
