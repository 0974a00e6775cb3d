import type { NewAuditEvent } from '../audit/event.js';
import type { Principal } from '../auth/authorise.js';

/** An audit event as a way in hands it over: the session stamps time, user, role and origin. */
export type SubmissionEvent = Omit<NewAuditEvent, 'time' | 'user' | 'role' | 'origin'>;

/**
 * Who is accountable for a submission: the signed-in principal who submits (a person at the CLI or
 * web page, the service account of a watched folder or schedule) and, when they act for someone,
 * that person (a watched folder's named person). Their session records the audit events, so each
 * names the principal, their roles and the system's audit identity.
 */
export interface Submitter {
  principal: Principal;
  /** The audit identity SMSP is told (ASID or ITK form), recorded as each event's origin. */
  origin: string;
  /** Who the batch is traced for, when not the principal themselves. */
  onBehalfOf?: string;
  /** Records events as done by `principal`; durable when it resolves. */
  record(events: readonly SubmissionEvent[]): Promise<void>;
}
