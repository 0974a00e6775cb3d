import type { Principal } from '../../auth/authorise.js';
import type { Submitter } from '../../intake/submitter.js';
import { auditAs, type AccessHookDeps } from '../access-hook.js';

/**
 * The signed-in person (or service account) of a web request as the intake's submitter: every
 * event it records is theirs, stamped as the access hook stamps a refusal (auditAs).
 */
export function webSubmitter(deps: Pick<AccessHookDeps, 'audit' | 'origin' | 'clock'>, principal: Principal): Submitter {
  return {
    principal,
    origin: deps.origin,
    record: async (events) => {
      await deps.audit.append(auditAs(deps, principal, events));
    },
  };
}
