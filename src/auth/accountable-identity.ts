import type { SmspSettings } from '../config.js';
import type { Principal } from './authorise.js';

/**
 * Who SMSP is told is accountable for a request (MSCA-AUD-04; SPEC §3.1; peers-and-governance.md
 * §4.4):
 * - the ITK audit identity: for the bare ODS form `urn:nhs-uk:identity:ods:<ODS>`, a person's local
 *   user id is appended (`…:<ODS>:<user>`, Access Method 2: "where a person starts the run");
 *   unattended runs by a service account send the organisation alone (Access Method 1). Any other
 *   configured form (a provider-issued `…:SYS:<id>`) and the ASID form NHS Digital's SMSP insists
 *   on ("other audit identity types will result in a rejection") go unchanged;
 * - wsse:Username: the local user id for a person, the configured system username for a service
 *   account.
 * The local audit trail records the same person in its `user` field either way.
 */

const BARE_ODS_IDENTITY = /^urn:nhs-uk:identity:ods:[A-Za-z0-9]+$/;

export interface AccountableIdentity {
  auditIdentity: SmspSettings['auditIdentity'];
  username: string;
}

export function accountableIdentity(smsp: Pick<SmspSettings, 'auditIdentity' | 'username'>, principal: Pick<Principal, 'userId' | 'kind'>): AccountableIdentity {
  const person = principal.kind === 'person';
  const { type, uri } = smsp.auditIdentity;
  const appendUser = person && type === 'itk' && BARE_ODS_IDENTITY.test(uri);
  return {
    auditIdentity: { type, uri: appendUser ? `${uri}:${principal.userId}` : uri },
    username: person ? principal.userId : smsp.username,
  };
}
