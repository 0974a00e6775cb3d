import type { AuditStore } from '../audit/store.js';
import { auditLedger, type AuditLedgerDeps } from './store-ledger.js';
import { UserStore, type UserStoreOptions } from './users.js';

/**
 * The user store as every command opens it: each change recorded in the audit trail, and sign-in
 * and changes refused while users.json is not the state last recorded there (store-ledger.ts).
 * Without `trail` — only `audit migrate`, which runs before the trail exists — changes are still
 * recorded (into its buffer), but there is nothing to check against yet.
 */
export function openRecordedUserStore(
  dataDir: string,
  audit: { sink: Pick<AuditStore, 'append'>; trail?: Pick<AuditStore, 'search'>; origin?: string },
  options: Omit<UserStoreOptions, 'ledger'> = {},
): Promise<UserStore> {
  const ledger: AuditLedgerDeps = { ...audit, clock: options.clock };
  return UserStore.open(dataDir, { ...options, ledger: auditLedger(ledger) });
}
