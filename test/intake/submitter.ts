import { roleField } from '../../src/audit/event.js';
import type { AuditStore } from '../../src/audit/store.js';
import type { Principal } from '../../src/auth/authorise.js';
import type { Submitter } from '../../src/intake/submitter.js';

/** A submitter whose events go to a test's audit store, stamped as a session would stamp them. */
export function testSubmitter(principal: Principal, audit: AuditStore): Submitter {
  return {
    principal,
    origin: 'urn:test',
    record: async (events) => {
      const time = new Date().toISOString();
      await audit.append(events.map((e) => ({ ...e, time, user: principal.userId, role: roleField(principal.roles), origin: 'urn:test' })));
    },
  };
}
