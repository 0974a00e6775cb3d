import pg from 'pg';
import { GENESIS_HASH } from './hash-chain.js';
import { AuditRuntimeRoleError, databaseError, describeLocation } from './pg-errors.js';
import { SUPERSEDED_DETAIL_PATTERN } from './superseded-numbers.js';

/**
 * The PostgreSQL audit schema and its migration. What makes it append-only (MSCA-AUD "cannot be
 * deleted or modified"; ecosystem.md §8.3):
 * - triggers refuse UPDATE, DELETE and TRUNCATE on the events, for every role, owner included;
 * - the application role is granted INSERT and SELECT on the events and SELECT on the head, nothing
 *   else, so even with the triggers dropped it could not change a row;
 * - the head (seq + hash of the last event) lives in its own one-row table that only the insert
 *   trigger moves: it checks that each new event extends the head (seq + 1, prevHash = head hash)
 *   under a row lock, so the chain stays linear with any number of writers, and it is the anchor
 *   verify compares with to detect rows cut off the end.
 * - the migration refuses an application role that could change rows after all (superuser, member
 *   of the owner, UPDATE/DELETE/TRUNCATE), and the store refuses to run as one (pg-store.ts): the
 *   owner can disable the triggers, so it must never be the runtime role.
 * A superuser can still disable triggers and edit rows; verify detects that through the hashes and
 * the witnesses kept outside the database.
 */

export const DEFAULT_AUDIT_SCHEMA = 'pds_trace_audit';

/** A schema or role name outside the safe identifier set; names the option, not a value. */
export class PgIdentifierError extends Error {
  override readonly name = 'PgIdentifierError';
  constructor(readonly option: string) {
    super(`${option} must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63)`);
  }
}

export function checkIdentifier(option: string, name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new PgIdentifierError(option);
  return name;
}

/** Key of the transaction-scoped advisory lock that serialises appends to one schema's chain. */
export function appendLockName(schema: string): string {
  return `pds-trace-audit:${schema}`;
}

/**
 * The number a superseded exchange's replacement replaced (superseded-numbers.ts), as SQL, and
 * the events that can hold one: the search for a person's other numbers uses exactly these
 * expressions (pg-store.ts), so that it reads the partial index below instead of every event.
 */
export const SUPERSEDED_NUMBER_SQL = `substring(detail from '${SUPERSEDED_DETAIL_PATTERN}')`;
export const SUPERSEDED_EXCHANGE_SQL = `kind = 'smsp_exchange' AND outcome = 'superseded'`;

function schemaSql(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};

CREATE TABLE IF NOT EXISTS ${s}.audit_event (
  seq         bigint PRIMARY KEY CHECK (seq > 0),
  time        timestamptz NOT NULL,
  kind        text NOT NULL,
  user_id     text NOT NULL,
  role        text NOT NULL,
  origin      text,
  batch_id    text,
  row_number  integer,
  interaction text,
  message_id  text,
  nhs_number  text,
  outcome     text,
  detail      text,
  prev_hash   text NOT NULL,
  hash        text NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_event_user_idx ON ${s}.audit_event (user_id, seq);
CREATE INDEX IF NOT EXISTS audit_event_message_idx ON ${s}.audit_event (message_id);
CREATE INDEX IF NOT EXISTS audit_event_nhs_number_idx ON ${s}.audit_event (nhs_number, seq);
CREATE INDEX IF NOT EXISTS audit_event_time_idx ON ${s}.audit_event (time);
CREATE INDEX IF NOT EXISTS audit_event_batch_idx ON ${s}.audit_event (batch_id, seq);
CREATE INDEX IF NOT EXISTS audit_event_prev_hash_idx ON ${s}.audit_event (prev_hash);
CREATE INDEX IF NOT EXISTS audit_event_superseded_idx ON ${s}.audit_event ((${SUPERSEDED_NUMBER_SQL})) WHERE ${SUPERSEDED_EXCHANGE_SQL};

CREATE TABLE IF NOT EXISTS ${s}.audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq       bigint NOT NULL,
  hash      text NOT NULL
);
INSERT INTO ${s}.audit_head (singleton, seq, hash) VALUES (true, 0, '${GENESIS_HASH}') ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION ${s}.audit_event_extend_head() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  head_seq bigint;
  head_hash text;
BEGIN
  SELECT seq, hash INTO head_seq, head_hash FROM ${s}.audit_head WHERE singleton FOR UPDATE;
  IF NEW.seq <> head_seq + 1 OR NEW.prev_hash <> head_hash THEN
    RAISE EXCEPTION 'audit event % does not extend the chain head %', NEW.seq, head_seq USING ERRCODE = 'check_violation';
  END IF;
  UPDATE ${s}.audit_head SET seq = NEW.seq, hash = NEW.hash WHERE singleton;
  RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION ${s}.audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$fn$;

CREATE OR REPLACE FUNCTION ${s}.audit_head_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  -- Depth 1 is a statement aimed at the head itself; the insert trigger's update runs at depth 2.
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'the audit head moves only when an event is appended' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$fn$;

DROP TRIGGER IF EXISTS audit_event_extend_head ON ${s}.audit_event;
CREATE TRIGGER audit_event_extend_head BEFORE INSERT ON ${s}.audit_event
  FOR EACH ROW EXECUTE FUNCTION ${s}.audit_event_extend_head();
DROP TRIGGER IF EXISTS audit_event_refuse_change ON ${s}.audit_event;
CREATE TRIGGER audit_event_refuse_change BEFORE UPDATE OR DELETE ON ${s}.audit_event
  FOR EACH ROW EXECUTE FUNCTION ${s}.audit_refuse_change();
DROP TRIGGER IF EXISTS audit_event_refuse_truncate ON ${s}.audit_event;
CREATE TRIGGER audit_event_refuse_truncate BEFORE TRUNCATE ON ${s}.audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_refuse_change();
DROP TRIGGER IF EXISTS audit_head_guard ON ${s}.audit_head;
CREATE TRIGGER audit_head_guard BEFORE UPDATE ON ${s}.audit_head
  FOR EACH ROW EXECUTE FUNCTION ${s}.audit_head_guard();
DROP TRIGGER IF EXISTS audit_head_refuse_change ON ${s}.audit_head;
CREATE TRIGGER audit_head_refuse_change BEFORE DELETE ON ${s}.audit_head
  FOR EACH ROW EXECUTE FUNCTION ${s}.audit_refuse_change();
DROP TRIGGER IF EXISTS audit_head_refuse_truncate ON ${s}.audit_head;
CREATE TRIGGER audit_head_refuse_truncate BEFORE TRUNCATE ON ${s}.audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_refuse_change();

REVOKE ALL ON ${s}.audit_event, ${s}.audit_head FROM PUBLIC;
`;
}

function appRoleSql(s: string, role: string, passwordLiteral: string | undefined): string {
  return `
DO $do$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN; END IF;
END $do$;
${passwordLiteral === undefined ? '' : `ALTER ROLE ${role} PASSWORD ${passwordLiteral};`}
GRANT USAGE ON SCHEMA ${s} TO ${role};
REVOKE ALL ON ${s}.audit_event, ${s}.audit_head FROM ${role};
GRANT SELECT, INSERT ON ${s}.audit_event TO ${role};
GRANT SELECT ON ${s}.audit_head TO ${role};
`;
}

/**
 * True when `role` could change the events after all: superuser, member of the tables' owner (so
 * it can ALTER TABLE … DISABLE TRIGGER and re-chain), or holding UPDATE, DELETE or TRUNCATE.
 * `role` is a parameter, not SQL: pass `current_user` via {@link CURRENT_ROLE_CAN_CHANGE_SQL}.
 */
const ROLE_CAN_CHANGE_SQL = (roleExpr: string) => `
SELECT r.rolsuper
    OR pg_has_role(r.oid, c.relowner, 'MEMBER')
    OR has_table_privilege(r.oid, c.oid, 'UPDATE')
    OR has_table_privilege(r.oid, c.oid, 'DELETE')
    OR has_table_privilege(r.oid, c.oid, 'TRUNCATE') AS can_change
FROM pg_roles r, pg_class c
WHERE r.rolname = ${roleExpr} AND c.oid = $1::regclass`;

/** Whether the connected role could change the events of `schema` (the runtime check). */
export const CURRENT_ROLE_CAN_CHANGE_SQL = ROLE_CAN_CHANGE_SQL('current_user');
/** Whether the role named in $2 could (the migration's check on the role it grants). */
const NAMED_ROLE_CAN_CHANGE_SQL = ROLE_CAN_CHANGE_SQL('$2');

/** The application role `audit migrate` creates unless told another. */
export const DEFAULT_APP_ROLE = 'pds_trace_app';

export interface PgMigrationOptions {
  /** Schema holding the audit tables. Default `pds_trace_audit`. */
  schema?: string;
  /** The application role to create (if missing) and grant INSERT + SELECT only; none if unset. */
  appRole?: string;
  /** Password to set on the application role (for password authentication). */
  appPassword?: string;
}

/**
 * Creates or updates the audit schema, idempotently, as a role allowed to create schemas (and
 * roles, with `appRole`). Run once per database by an administrator: `pds-trace audit migrate`.
 * The application then connects as `appRole` through `AUDIT_DATABASE_URL`.
 */
export async function migratePgAuditSchema(connectionString: string, options: PgMigrationOptions = {}): Promise<void> {
  const schema = checkIdentifier('schema', options.schema ?? DEFAULT_AUDIT_SCHEMA);
  const role = options.appRole === undefined ? undefined : checkIdentifier('app role', options.appRole);
  const location = describeLocation(connectionString, schema);
  const client = new pg.Client({ connectionString });
  try {
    await client.connect();
  } catch (err) {
    throw databaseError('migrate', location, err);
  }
  try {
    await client.query('BEGIN');
    // Two administrators migrating at once would race on CREATE ... IF NOT EXISTS.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${appendLockName(schema)}:migrate`]);
    await client.query(schemaSql(schema));
    if (role) {
      const password = options.appPassword === undefined ? undefined : client.escapeLiteral(options.appPassword);
      await client.query(appRoleSql(schema, role, password));
      // An existing role may already be more than insert-only (the owner itself, a member of it, a
      // superuser): granting it "insert and read" would then promise what the database does not hold.
      const { rows } = await client.query(NAMED_ROLE_CAN_CHANGE_SQL, [`${schema}.audit_event`, role]);
      if (rows[0]?.can_change) throw new AuditRuntimeRoleError(role, location);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err instanceof AuditRuntimeRoleError ? err : databaseError('migrate', location, err);
  } finally {
    await client.end();
  }
}
