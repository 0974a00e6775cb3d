/**
 * The PostgreSQL audit store's failures, as typed errors that are safe to print: they carry
 * PostgreSQL's code and message but never its `detail`, which for constraint failures quotes the
 * whole row (an NHS number among it), and they name the server without user or password.
 */

import { ConfigError } from '../config.js';

/** The database refused or failed an operation. */
export class AuditDatabaseError extends Error {
  override readonly name = 'AuditDatabaseError';
  constructor(
    readonly operation: string,
    readonly location: string,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`audit ${operation} at ${location} failed${code ? ` (${code})` : ''}: ${reason}`);
  }
}

/**
 * The role would be able to change the audit trail: a superuser, the tables' owner or a member of
 * it (who can disable the triggers and re-chain), or one granted UPDATE, DELETE or TRUNCATE. A
 * configuration error (exit 3): the fix is which role AUDIT_DATABASE_URL (or --app-role) names.
 */
export class AuditRuntimeRoleError extends ConfigError {
  constructor(
    readonly role: string,
    readonly location: string,
  ) {
    super([
      `AUDIT_DATABASE_URL: role ${role} can change the audit trail at ${location} (superuser, owner of the audit tables or a member of the owner, ` +
        'or granted UPDATE/DELETE/TRUNCATE). Connect as the insert-only role `pds-trace audit migrate` creates (pds_trace_app by default); ' +
        'the owner must not be the runtime role',
    ]);
  }
}

/**
 * PostgreSQL did not answer when the store was opened: nothing listens at the address, the name
 * does not resolve, or no connection within the timeout. The fix is AUDIT_DATABASE_URL or the
 * server, so the command ends at once (exit 3) saying so, before it does anything it must audit.
 */
export class AuditDatabaseUnreachableError extends AuditDatabaseError {
  constructor(location: string, why: string) {
    super('open', location, why, why);
    this.message = `the audit database does not answer at AUDIT_DATABASE_URL ${location} (${why}): check AUDIT_DATABASE_URL and that PostgreSQL is running`;
  }
}

/** The audit tables are not there: the schema was never migrated (or is another one). */
export class AuditSchemaMissingError extends Error {
  override readonly name = 'AuditSchemaMissingError';
  constructor(readonly location: string) {
    super(`no audit tables at ${location}: an administrator must run \`pds-trace audit migrate\` first`);
  }
}

export function databaseError(operation: string, location: string, err: unknown): AuditDatabaseError {
  const e = err as { code?: string; message?: string };
  return new AuditDatabaseError(operation, location, e.code, e.message ?? String(err));
}

/** `postgres://host:port/db (schema s)`: where, without user or password. */
export function describeLocation(connectionString: string, schema: string): string {
  try {
    const url = new URL(connectionString);
    return `postgres://${url.host}${url.pathname} (schema ${schema})`;
  } catch {
    return `PostgreSQL (schema ${schema})`;
  }
}
