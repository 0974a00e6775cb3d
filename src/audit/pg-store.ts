import pg from 'pg';
import { writeAuditCsv } from './csv-export.js';
import { normaliseNewEvent, parseStoredEvent, type AuditEvent, type NewAuditEvent } from './event.js';
import { ChainVerifier, chainEvents, explainMovedEvent, type ChainHead, type VerifyResult } from './hash-chain.js';
import { AuditDatabaseUnreachableError, AuditRuntimeRoleError, AuditSchemaMissingError, databaseError, describeLocation } from './pg-errors.js';
import { appendLockName, checkIdentifier, CURRENT_ROLE_CAN_CHANGE_SQL, DEFAULT_AUDIT_SCHEMA, SUPERSEDED_EXCHANGE_SQL, SUPERSEDED_NUMBER_SQL } from './pg-schema.js';
import { nhsNumbersOf, type AuditFilter, type AuditStore, type VerifyOptions } from './store.js';

/**
 * The PostgreSQL audit store: many writers on many machines, one linear chain. Appends take a
 * transaction-scoped advisory lock on the schema's chain, read the head, chain the new events onto
 * it and insert them; the insert trigger (pg-schema.ts) re-checks each event against the head under
 * a row lock, so even a writer that skipped the advisory lock could not fork the chain. Connect as
 * the restricted application role: it may only INSERT and SELECT.
 */

export interface PgAuditStoreOptions {
  connectionString: string;
  /** Default `pds_trace_audit`. */
  schema?: string;
  /** Connections kept open. Default 4. */
  poolSize?: number;
}

/** Columns in insert order, paired with the event fields they hold. */
const COLUMNS = [
  ['seq', 'seq'], ['time', 'time'], ['kind', 'kind'], ['user_id', 'user'], ['role', 'role'], ['origin', 'origin'], ['batch_id', 'batchId'],
  ['row_number', 'row'], ['interaction', 'interaction'], ['message_id', 'messageId'], ['nhs_number', 'nhsNumber'], ['outcome', 'outcome'],
  ['detail', 'detail'], ['prev_hash', 'prevHash'], ['hash', 'hash'],
] as const satisfies readonly (readonly [string, keyof AuditEvent])[];

const INSERT_BATCH = 200;
const READ_PAGE = 2000;

/** A table row as the stored record verify checks: every non-null column, time as toISOString writes it. */
function rowToRecord(row: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [column, field] of COLUMNS) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    if (value instanceof Date) record[field] = value.toISOString();
    else if (field === 'seq') record[field] = Number(value);
    else record[field] = value;
  }
  return record;
}

interface Where {
  sql: string;
  params: unknown[];
}

function whereClause(filter: AuditFilter, afterSeq: number): Where {
  const params: unknown[] = [afterSeq];
  const terms = ['seq > $1'];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const add = (column: string, op: string, value: unknown) => terms.push(`${column} ${op} ${param(value)}`);
  if (filter.user !== undefined) add('user_id', '=', filter.user);
  if (filter.messageId !== undefined) add('message_id', '=', filter.messageId);
  if (filter.nhsNumber !== undefined) terms.push(`nhs_number = ANY(${param([...nhsNumbersOf(filter)])})`);
  if (filter.supersessionOf !== undefined) {
    // supersessionOf() in superseded-numbers.ts, in SQL, written as the partial index is.
    const number = param(filter.supersessionOf);
    terms.push(
      `${SUPERSEDED_EXCHANGE_SQL} AND ${SUPERSEDED_NUMBER_SQL} <> nhs_number AND (nhs_number = ${number} OR ${SUPERSEDED_NUMBER_SQL} = ${number})`,
    );
  }
  if (filter.batchId !== undefined) add('batch_id', '=', filter.batchId);
  if (filter.kind !== undefined) add('kind', '=', filter.kind);
  if (filter.from !== undefined) add('time', '>=', filter.from.toISOString());
  if (filter.to !== undefined) add('time', '<', filter.to.toISOString());
  return { sql: terms.join(' AND '), params };
}

class PgAuditStore implements AuditStore {
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #schema: string;

  constructor(pool: pg.Pool, schema: string, location: string) {
    this.#pool = pool;
    this.#schema = schema;
    this.location = location;
  }

  async append(events: readonly NewAuditEvent[]): Promise<AuditEvent[]> {
    if (events.length === 0) return [];
    const normalised = events.map(normaliseNewEvent);
    const client = await this.#connect('append');
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [appendLockName(this.#schema)]);
      const chained = chainEvents(await this.#head(client), normalised);
      for (let i = 0; i < chained.length; i += INSERT_BATCH) await this.#insert(client, chained.slice(i, i + INSERT_BATCH));
      // Durable on return: COMMIT with PostgreSQL's default synchronous_commit waits for the WAL flush.
      await client.query('COMMIT');
      return chained;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw databaseError('append', this.location, err);
    } finally {
      client.release();
    }
  }

  async currentHead(): Promise<ChainHead> {
    // The head table moves only with an insert (pg-schema.ts): it is the chain's head as committed.
    const client = await this.#connect('read the head of');
    try {
      return await this.#head(client);
    } catch (err) {
      throw err instanceof AuditSchemaMissingError ? err : databaseError('read the head of', this.location, err);
    } finally {
      client.release();
    }
  }

  async search(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const found: AuditEvent[] = [];
    for await (const event of this.events(filter)) found.push(event);
    return found;
  }

  async *events(filter: AuditFilter = {}): AsyncIterable<AuditEvent> {
    let remaining = filter.limit ?? Infinity;
    let afterSeq = 0;
    while (remaining > 0) {
      const where = whereClause(filter, afterSeq);
      const page = Math.min(READ_PAGE, remaining);
      const rows = await this.#query('search', `SELECT * FROM ${this.#schema}.audit_event WHERE ${where.sql} ORDER BY seq LIMIT ${page}`, where.params);
      for (const row of rows) {
        const event = parseStoredEvent(rowToRecord(row));
        if (event) yield event;
      }
      if (rows.length < page) return;
      remaining -= rows.length;
      afterSeq = Number(rows[rows.length - 1]!.seq);
    }
  }

  exportCsv(file: string, filter: AuditFilter = {}): Promise<number> {
    return writeAuditCsv(file, this.events(filter));
  }

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const client = await this.#connect('verify');
    try {
      // One snapshot for head and events: appends committed meanwhile are simply not seen.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const anchor = await this.#head(client);
      const verifier = new ChainVerifier({ store: anchor, expected: options.expectedHeads });
      let afterSeq = 0;
      for (;;) {
        const { rows } = await client.query(`SELECT * FROM ${this.#schema}.audit_event WHERE seq > $1 ORDER BY seq LIMIT ${READ_PAGE}`, [afterSeq]);
        for (const row of rows) verifier.push(rowToRecord(row));
        if (rows.length < READ_PAGE) break;
        afterSeq = Number(rows[rows.length - 1].seq);
      }
      const result = verifier.finish();
      const mismatch = verifier.mismatchedEvent;
      if (mismatch) {
        const seqWhere = async (column: string, hash: string) => {
          const { rows } = await client.query(`SELECT seq FROM ${this.#schema}.audit_event WHERE ${column} = $1 ORDER BY seq LIMIT 1`, [hash]);
          return rows[0] === undefined ? undefined : Number(rows[0].seq);
        };
        const before = await seqWhere('hash', mismatch.event.prevHash);
        const after = await seqWhere('prev_hash', mismatch.event.hash);
        await client.query('COMMIT');
        return explainMovedEvent(result, mismatch, { before, after });
      }
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw databaseError('verify', this.location, err);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #head(client: pg.PoolClient): Promise<ChainHead> {
    const { rows } = await client.query(`SELECT seq, hash FROM ${this.#schema}.audit_head WHERE singleton`);
    const row = rows[0];
    if (!row) throw new AuditSchemaMissingError(this.location);
    return { seq: Number(row.seq), hash: String(row.hash) };
  }

  async #insert(client: pg.PoolClient, events: readonly AuditEvent[]): Promise<void> {
    const params: unknown[] = [];
    const tuples = events.map((event) => {
      const placeholders = COLUMNS.map(([, field]) => {
        params.push(event[field] ?? null);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    // Rows of one VALUES list are inserted, and their triggers fire, in the order listed.
    await client.query(`INSERT INTO ${this.#schema}.audit_event (${COLUMNS.map(([c]) => c).join(', ')}) VALUES ${tuples.join(', ')}`, params);
  }

  async #connect(operation: string): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (err) {
      throw databaseError(operation, this.location, err);
    }
  }

  async #query(operation: string, sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    try {
      return (await this.#pool.query(sql, params)).rows as Record<string, unknown>[];
    } catch (err) {
      throw databaseError(operation, this.location, err);
    }
  }
}

/** How long opening the store waits for PostgreSQL to accept a connection. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Connects to an already migrated audit schema; refuses (AuditSchemaMissingError) if it is not there. */
export async function openPgAuditStore(options: PgAuditStoreOptions): Promise<AuditStore> {
  const schema = checkIdentifier('schema', options.schema ?? DEFAULT_AUDIT_SCHEMA);
  const location = describeLocation(options.connectionString, schema);
  // The checks run on a connection of their own with a bounded wait: an address that drops
  // packets would otherwise hold the command for the system's TCP timeout (minutes). The pool
  // keeps no such timeout, which would also cut appends queued behind a busy pool.
  const first = new pg.Client({ connectionString: options.connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  first.on('error', () => undefined);
  try {
    await first.connect();
    const { rows } = await first.query('SELECT to_regclass($1) AS events, to_regclass($2) AS head', [`${schema}.audit_event`, `${schema}.audit_head`]);
    if (!rows[0]?.events || !rows[0]?.head) throw new AuditSchemaMissingError(location);
    // Fail closed on a role that could disable the triggers or change rows: the chain would then
    // rest on nothing but its own hashes.
    const role = await first.query(`${CURRENT_ROLE_CAN_CHANGE_SQL}`, [`${schema}.audit_event`]);
    if (role.rows[0]?.can_change) throw new AuditRuntimeRoleError(new URL(options.connectionString).username || 'current_user', location);
  } catch (err) {
    if (err instanceof AuditSchemaMissingError || err instanceof AuditRuntimeRoleError) throw err;
    // A server's refusal carries its severity; a connection that never came about does not.
    const e = err as { severity?: string; code?: string; message?: string };
    if (e.severity === undefined) throw new AuditDatabaseUnreachableError(location, e.code ?? e.message ?? String(err));
    throw databaseError('open', location, err);
  } finally {
    await first.end().catch(() => undefined);
  }
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 4 });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return new PgAuditStore(pool, schema, location);
}
