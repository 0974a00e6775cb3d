import { describe, expect, it } from 'vitest';
import { accountableIdentity } from '../../src/auth/accountable-identity.js';

const person = { userId: 'ada', kind: 'person' as const };
const service = { userId: 'watcher', kind: 'service' as const };

describe('accountable identity sent to SMSP', () => {
  it('appends the local user to a bare ODS identity when a person starts the run (Access Method 2)', () => {
    const smsp = { auditIdentity: { type: 'itk' as const, uri: 'urn:nhs-uk:identity:ods:RHM' }, username: 'pds-trace' };
    expect(accountableIdentity(smsp, person)).toEqual({ auditIdentity: { type: 'itk', uri: 'urn:nhs-uk:identity:ods:RHM:ada' }, username: 'ada' });
  });

  it('sends the organisation alone and the system username for a service account (Access Method 1)', () => {
    const smsp = { auditIdentity: { type: 'itk' as const, uri: 'urn:nhs-uk:identity:ods:RHM' }, username: 'pds-trace' };
    expect(accountableIdentity(smsp, service)).toEqual({ auditIdentity: { type: 'itk', uri: 'urn:nhs-uk:identity:ods:RHM' }, username: 'pds-trace' });
  });

  it('leaves the ASID form and provider-issued identities unchanged, which a provider would otherwise reject', () => {
    const asid = { auditIdentity: { type: 'asid' as const, uri: '999000000001' }, username: 'pds-trace' };
    expect(accountableIdentity(asid, person)).toEqual({ auditIdentity: { type: 'asid', uri: '999000000001' }, username: 'ada' });
    const issued = { auditIdentity: { type: 'itk' as const, uri: 'urn:nhs-uk:identity:ods:RHM:SYS:42' }, username: 'given-by-provider' };
    expect(accountableIdentity(issued, person).auditIdentity.uri).toBe('urn:nhs-uk:identity:ods:RHM:SYS:42');
  });
});
