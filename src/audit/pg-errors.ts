/**
 * The PostgreSQL audit store's failures, as typed errors that are safe to print: they carry
 * PostgreSQL's code and message but never its `detail`, which for constraint failures quotes the
 * whole row (an NHS number among it), and they name the server without user or password.
 */

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
