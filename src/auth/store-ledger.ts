import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/hash-chain.js';
import type { AuditStore } from '../audit/store.js';
import type { UserRecord } from './users.js';

/**
 * The user store's state, recorded in the audit trail on every change, so a users.json changed
 * behind pds-trace's back (a lockout cleared, a role added, a password hash swapped) is noticed:
 * the store refuses sign-in and changes until an admin accepts what it now holds
 * (`pds-trace users accept-store`, accept-store.ts).
 *
 * - The digest is SHA-256 of the canonical JSON of the accounts (keys sorted, no whitespace), so
 *   re-indenting the file changes nothing, and any change of a value does.
 * - It is recorded as a `user_store_changed` event (`detail: sha256=<hex> change=<what>
 *   target=<id>`), appended while the store's lock is still held, so the latest such event in the
 *   trail is always the digest of the latest write. The trail is where it is read back from: it is
 *   the tamper-evident place (audit verify); a digest kept next to users.json could be rewritten
 *   with it.
 * - A write whose event cannot be appended (audit store down) leaves users.json ahead of the
 *   trail: sign-in is then refused until accepted — failing closed, never open.
 */

export const USER_STORE_EVENT = 'user_store_changed';

/** Who made a change, as the event records them; by default the account changed (its sign-in). */
export interface StoreActor {
  user: string;
  role: string;
}

export interface StoreChange {
  digest: string;
  /** added, password_set, roles_set, disabled, enabled, lockout_lifted, token_replaced, sign_in, accepted. */
  change: string;
  target?: string;
  actor: StoreActor;
  /** Extra `key=value` words for the detail (what an accept replaced). */
  note?: string;
}

export interface UserStoreLedger {
  /** Appends the change's event; durable when it resolves. */
  record(change: StoreChange): Promise<void>;
  /**
   * The digest last recorded, undefined if none ever was. Absent when there is no trail to read
   * yet (`audit migrate` before the PostgreSQL schema exists): then nothing can be checked.
   */
  latestDigest?(): Promise<string | undefined>;
}

export function userStoreDigest(users: readonly UserRecord[]): string {
  return createHash('sha256').update(canonicalJson(users)).digest('hex');
}

const DIGEST_IN_DETAIL = /(?:^| )sha256=([0-9a-f]{64})(?: |$)/;

export interface AuditLedgerDeps {
  /** Where events go: the store, or a buffer flushed to it later. */
  sink: Pick<AuditStore, 'append'>;
  /** Where the latest digest is read from; omit when there is no trail yet. */
  trail?: Pick<AuditStore, 'search'>;
  origin?: string;
  clock?: () => Date;
}

/** The ledger kept in the audit trail. */
export function auditLedger(deps: AuditLedgerDeps): UserStoreLedger {
  const ledger: UserStoreLedger = {
    async record(change) {
      const words = [`sha256=${change.digest}`, `change=${change.change}`, change.target ? `target=${change.target}` : '', change.note ?? ''];
      await deps.sink.append([
        {
          time: (deps.clock ?? (() => new Date()))().toISOString(),
          kind: USER_STORE_EVENT,
          user: change.actor.user,
          role: change.actor.role,
          origin: deps.origin,
          outcome: 'recorded',
          detail: words.filter(Boolean).join(' '),
        },
      ]);
    },
  };
  const trail = deps.trail;
  if (trail) {
    // Reads every user_store_changed event: few, but the file store scans the trail to find them.
    ledger.latestDigest = async () => {
      const events = await trail.search({ kind: USER_STORE_EVENT });
      const latest = events.at(-1)?.detail?.match(DIGEST_IN_DETAIL);
      return latest?.[1];
    };
  }
  return ledger;
}

/** users.json is not the state last recorded in the audit trail: nobody signs in until it is accepted. */
export class UserStoreNotAcceptedError extends Error {
  override readonly name = 'UserStoreNotAcceptedError';
  constructor(
    readonly file: string,
    readonly found: string,
    readonly recorded: string | undefined,
  ) {
    super(
      `${file} ${recorded === undefined ? 'has no digest recorded in the audit trail' : 'differs from the state last recorded in the audit trail'} ` +
        `(found sha256 ${found.slice(0, 12)}…${recorded === undefined ? '' : `, recorded ${recorded.slice(0, 12)}…`}): ` +
        'nobody can sign in until an admin runs `pds-trace users accept-store --as <admin>`',
    );
  }
}
