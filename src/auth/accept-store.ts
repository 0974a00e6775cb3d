import { roleField } from '../audit/event.js';
import { admit, refuse, standInHash, type AuthenticatorDeps } from './authenticate.js';
import { AccessDeniedError, requireAccess, type Principal } from './authorise.js';
import { DEFAULT_SCRYPT_PARAMS, verifyPassword } from './password.js';
import { refusalWithoutPassword } from './sign-in-decision.js';
import { describeStoreDifferences } from './store-diff.js';
import { userStoreDigest } from './store-ledger.js';
import type { StoreStateForAccept, UserRecord } from './users.js';

/**
 * `pds-trace users accept-store`: an admin looks at what differs between users.json and the state
 * last recorded in the audit trail, and records users.json as it is, reopening sign-in.
 *
 * Who may accept is decided from the accounts the trail vouches for — users.recorded.json, whose
 * digest must be the one last recorded — never from the changed users.json: otherwise whoever
 * edited the file could make themselves admin and accept their own edit. Only when nothing was ever
 * recorded (an installation from before digests were recorded, or an audit trail started afresh)
 * is there nothing to vouch, and the admin signs in against users.json as found: trust on first
 * use, audited like any other acceptance.
 *
 * The password is checked without failure counting: counting would itself change users.json, and
 * whoever can create the mismatch can already read the hashes and guess offline. Every attempt is
 * audited (sign_in_failed / sign_in).
 */

export type AcceptBasis = 'recorded' | 'first_use';

export interface AcceptOutcome {
  /** False when users.json already matched the trail: nothing recorded. */
  accepted: boolean;
  digest: string;
  basis?: AcceptBasis;
  /** One line per account that differs from the recorded copy. */
  differences: string[];
  /** Who signed in to accept (against the recorded accounts). */
  principal: Principal;
}

/** No account state the trail vouches for: nothing to sign in against. */
export class AcceptStoreError extends Error {
  override readonly name = 'AcceptStoreError';
}

function basisOf(state: StoreStateForAccept): { basis: AcceptBasis; accounts: UserRecord[] } {
  if (state.recordedDigest === undefined) return { basis: 'first_use', accounts: state.current };
  if (state.recordedCopy && userStoreDigest(state.recordedCopy) === state.recordedDigest) return { basis: 'recorded', accounts: state.recordedCopy };
  throw new AcceptStoreError(
    'users.recorded.json is missing or is not the state last recorded in the audit trail, so there is nobody to accept the change: ' +
      'restore users.json (or users.recorded.json) from a backup of the recorded state',
  );
}

async function signInAgainst(deps: AuthenticatorDeps, accounts: readonly UserRecord[], userId: string, password: string): Promise<Principal> {
  const now = (deps.clock ?? (() => new Date()))();
  const admin = accounts.find((u) => u.id === userId);
  if (!admin) {
    await verifyPassword(password, standInHash(deps.passwordParams ?? DEFAULT_SCRYPT_PARAMS));
    return refuse(deps, userId, undefined, 'unknown_user', 'password');
  }
  const early = refusalWithoutPassword(admin, now);
  if (early) return refuse(deps, userId, admin, early, 'password');
  if (!(await verifyPassword(password, admin.passwordHash!))) return refuse(deps, userId, admin, 'bad_password', 'password');
  return admit(deps, admin, 'password');
}

/** The command's rule (users.manage), checked against the vouched-for roles; a refusal is audited. */
async function requireAccepter(deps: AuthenticatorDeps, principal: Principal): Promise<void> {
  try {
    requireAccess(principal, 'cli', 'users accept-store');
  } catch (err) {
    if (err instanceof AccessDeniedError) {
      const time = (deps.clock ?? (() => new Date()))().toISOString();
      await deps.audit.append([
        { kind: 'access_denied', user: principal.userId, role: roleField(principal.roles), origin: deps.origin, time, outcome: 'refused', detail: 'command=users accept-store' },
      ]);
    }
    throw err;
  }
}

export async function acceptUserStore(deps: AuthenticatorDeps, credentials: { userId: string; password: string }): Promise<AcceptOutcome> {
  let outcome: AcceptOutcome | undefined;
  await deps.users.accept(async (state) => {
    const { basis, accounts } = basisOf(state);
    const principal = await signInAgainst(deps, accounts, credentials.userId, credentials.password);
    await requireAccepter(deps, principal);
    if (state.recordedDigest === state.digest) {
      outcome = { accepted: false, digest: state.digest, differences: [], principal };
      return undefined;
    }
    const differences = basis === 'recorded' ? describeStoreDifferences(accounts, state.current) : [];
    outcome = { accepted: true, digest: state.digest, basis, differences, principal };
    return { actor: { user: principal.userId, role: roleField(principal.roles) }, note: `previous=${state.recordedDigest ?? 'none'} basis=${basis}` };
  });
  return outcome!;
}
