import { randomUUID } from 'node:crypto';
import type { EnvelopeContext } from './types.js';

/**
 * A new UUID in upper case: the DE trackingid and HL7 id/@root schema types only accept upper-case
 * hex, and TKW flags lower-case MessageIDs (SPEC §2.1 WS-ADR-01, §3.1).
 */
export function newUuid(): string {
  return randomUUID().toUpperCase();
}

/** Fresh ids for one request; TKW checks that all four are distinct (SPEC §2.1). */
export function newEnvelopeIds(): Pick<EnvelopeContext, 'messageId' | 'trackingId' | 'payloadId' | 'timestampId'> {
  return { messageId: newUuid(), trackingId: newUuid(), payloadId: newUuid(), timestampId: newUuid() };
}
