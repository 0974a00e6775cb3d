import type { AuditStore } from '../audit/store.js';
import { auditLedger } from './store-ledger.js';
import { UserStore, type UserStoreOptions } from './users.js';

/**
 * The user store as every command opens it: each change recorded in `audit`, and sign-in and
 * changes refused while users.json is not the state last recorded there (store-ledger.ts).
 * `trail: false` is for the one command that runs before the trail exists (`audit migrate`):
 * changes are still recorded (into its buffer), but there is nothing to check against yet.
 */
export function openRecordedUserStore(
  dataDir: string,
  audit: Pick<AuditStore, 'append'> & Partial<Pick<AuditStore, 'search'>>,
  options: { origin?: string; trail?: boolean } & Omit<UserStoreOptions, 'ledger'> = {},
): Promise<UserStore> {
  const { origin, trail = true, ...storeOptions } = options;
  const search = trail && audit.search ? { search: audit.search.bind(audit) } : undefined;
  return UserStore.open(dataDir, { ...storeOptions, ledger: auditLedger({ sink: audit, trail: search, origin, clock: storeOptions.clock }) });
}
