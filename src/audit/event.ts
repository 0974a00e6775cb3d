import { z } from 'zod';

/**
 * One entry of the tamper-evident audit trail. The fields are the ones MSCA-AUD asks of every entry
 * (peers-and-governance.md §4.3): who (user, role), when (UTC time), what (kind, interaction,
 * outcome), the patient identifier (NHS number), the message id, a sequence number against
 * tampering and the originating system id. Demographics never go in: no names, dates of birth,
 * postcodes or addresses, not even in `detail`.
 */

/** What happened. Adding a kind is one line here. */
export const AUDIT_EVENT_KINDS = [
  /** One request/response exchange with SMSP (every attempt, retries included). */
  'smsp_exchange',
  /** An input row refused locally, before any request. */
  'row_rejected',
  'batch_submitted',
  /** Someone resumed or retried a batch: `user` is who did it; the batch's exchanges name them too (`actor=`). */
  'batch_resumed',
  'batch_retried',
  /** Someone cancelled a batch: `user` is who did it; `detail` says how far it had got. */
  'batch_cancelled',
  /** A finished batch's work files (patient data) were removed: by retention or by `purge`. */
  'work_files_removed',
  'sign_in',
  'sign_in_failed',
  /** A web session ended: signed out (`outcome=signed_out`) or idle too long (`outcome=idle_timeout`). */
  'sign_out',
  /** The failed attempt that locked an account. */
  'lockout',
  /** A signed-in user was refused a command, route or page. */
  'access_denied',
  /** A user was added, disabled, enabled or had their password or token changed. */
  'user_changed',
  'role_changed',
  /** users.json was written or accepted: `detail` carries its digest (auth/store-ledger.ts). */
  'user_store_changed',
  'config_changed',
  'results_downloaded',
  'research_downloaded',
  /** Someone searched or exported the audit trail itself. */
  'audit_searched',
  'audit_verified',
  /** An admin lifted a lockout before it ran out (`users enable`): `detail` names the account. */
  'lockout_lifted',
  /** An operator paused, resumed, retried, promoted or cleaned on the queue dashboard: `detail` names the queue and job (ids only). */
  'queue_operated',
] as const;

export type AuditEventKind = (typeof AUDIT_EVENT_KINDS)[number];

export interface AuditEvent {
  /** 1, 2, 3 … with no gaps, assigned by the store. */
  seq: number;
  /** ISO 8601 UTC with milliseconds (`Date.prototype.toISOString`). */
  time: string;
  kind: AuditEventKind;
  /** The accountable local user (or service account) id. */
  user: string;
  /** The user's roles when it happened, `+`-joined (`tracer`, `admin`); empty for none. */
  role: string;
  /** Originating system: the ASID or ITK/ODS audit identity sent to SMSP (MSCA-AUD). */
  origin?: string;
  batchId?: string;
  /** 1-based data row of the batch's input file. */
  row?: number;
  interaction?: string;
  /** wsa:MessageID of the SMSP request. */
  messageId?: string;
  /** The patient identifier involved. Ten digits. */
  nhsNumber?: string;
  /** Status, response code or result (`matched`, `SMSP-0000`, `refused`, `locked`…). */
  outcome?: string;
  /** PII-free detail: a reason code, a field name, the user id changed, a count. */
  detail?: string;
  /** `hash` of the previous event; 64 zeros for the first. */
  prevHash: string;
  /** SHA-256 (hex) of the canonical JSON of every other field. */
  hash: string;
}

/** What a caller hands the store: the store numbers and chains it. */
export type NewAuditEvent = Omit<AuditEvent, 'seq' | 'prevHash' | 'hash'>;

/** The fields a new event may carry, in the order exports and tables list them. */
export const AUDIT_FIELDS = [
  'seq', 'time', 'kind', 'user', 'role', 'origin', 'batchId', 'row', 'interaction', 'messageId', 'nhsNumber', 'outcome', 'detail', 'prevHash', 'hash',
] as const satisfies readonly (keyof AuditEvent)[];

/** Refused before it reaches the store; names the field and rule, never the value. */
export class AuditEventError extends Error {
  override readonly name = 'AuditEventError';
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`audit event field ${field}: ${rule}`);
  }
}

const HASH = z.string().regex(/^[0-9a-f]{64}$/);
const SHORT_TEXT = z.string().max(256);

const NEW_EVENT = z
  .object({
    time: z.string().refine((t) => !Number.isNaN(Date.parse(t)) && /(Z|[+-]\d{2}:?\d{2})$/.test(t), 'must be an ISO 8601 time with a zone'),
    kind: z.enum(AUDIT_EVENT_KINDS),
    user: z.string().min(1).max(128),
    role: z.string().max(128),
    origin: SHORT_TEXT.optional(),
    batchId: SHORT_TEXT.optional(),
    row: z.number().int().positive().optional(),
    interaction: SHORT_TEXT.optional(),
    messageId: SHORT_TEXT.optional(),
    nhsNumber: z.string().regex(/^\d{10}$/, 'must be ten digits').optional(),
    outcome: SHORT_TEXT.optional(),
    detail: z.string().max(2048).optional(),
  })
  .strict();

/**
 * A stored event exactly as written. `strict`: a key added behind the application's back is an
 * edit, not something to strip silently before hashing.
 */
const STORED_EVENT = NEW_EVENT.extend({
  seq: z.number().int().positive(),
  time: z.string().refine((t) => isCanonicalTime(t), 'must be a UTC time as toISOString writes it'),
  prevHash: HASH,
  hash: HASH,
}).strict();

function isCanonicalTime(t: string): boolean {
  const ms = Date.parse(t);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === t;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Checks a new event and brings its time to the one canonical form (UTC, milliseconds), so the
 * hash is the same whichever store keeps it (PostgreSQL hands back a timestamp, not the text).
 */
export function normaliseNewEvent(event: NewAuditEvent): NewAuditEvent {
  const parsed = NEW_EVENT.safeParse(withoutUndefined(event));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AuditEventError(issue.path.join('.') || '(event)', issue.message);
  }
  return withoutUndefined({ ...parsed.data, time: new Date(parsed.data.time).toISOString() });
}

/** Reads a stored event; undefined when the record is not a well-formed event (an edit). */
export function parseStoredEvent(value: unknown): AuditEvent | undefined {
  const parsed = STORED_EVENT.safeParse(value);
  return parsed.success ? withoutUndefined(parsed.data) : undefined;
}

/** The roles of a principal as the `role` field records them. */
export function roleField(roles: readonly string[]): string {
  return roles.join('+');
}
