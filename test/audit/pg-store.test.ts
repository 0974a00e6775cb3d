import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditDatabaseError } from '../../src/audit/pg-errors.js';
import { openPgAuditStore } from '../../src/audit/pg-store.js';
import { migratePgAuditSchema, PgIdentifierError } from '../../src/audit/pg-schema.js';
import type { AuditStore } from '../../src/audit/store.js';
import { sampleEvents } from './fixtures.js';
import { createAppRole, createTestSchema, TEST_DATABASE_URL, type TestSchema } from './pg-fixtures.js';

let role: Awaited<ReturnType<typeof createAppRole>>;
let db: TestSchema;
let store: AuditStore;
let app: pg.Client;

beforeAll(async () => {
  role = await createAppRole();
});

afterAll(async () => {
  await role.dropRole();
});

beforeEach(async () => {
  db = await createTestSchema(role.appRole);
  store = await openPgAuditStore({ connectionString: db.appUrl, schema: db.schema });
  app = new pg.Client({ connectionString: db.appUrl });
  await app.connect();
});

afterEach(async () => {
  await app.end();
  await store.close();
  await db.drop();
});

/** Runs SQL as the superuser with triggers off: an edit "behind the application's back". */
async function tamper(sql: string): Promise<void> {
  await db.owner.query('BEGIN');
  await db.owner.query("SET LOCAL session_replication_role = 'replica'");
  await db.owner.query(sql.replaceAll('$S', db.schema));
  await db.owner.query('COMMIT');
}

describe('PostgreSQL audit store: appending', () => {
  it('numbers, chains and returns events, and moves the head with them', async () => {
    const first = await store.append(sampleEvents(2));
    const second = await store.append(sampleEvents(2, 3));
    expect([...first, ...second].map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(second[0]!.prevHash).toBe(first[1]!.hash);
    const head = await app.query(`SELECT seq, hash FROM ${db.schema}.audit_head`);
    expect(head.rows[0]).toEqual({ seq: '4', hash: second[1]!.hash });
    expect(await store.search()).toEqual([...first, ...second]);
  });

  it('gives the committed head as a witness for batch summaries', async () => {
    expect(await store.currentHead()).toEqual({ seq: 0, hash: '0'.repeat(64) });
    const events = await store.append(sampleEvents(3));
    expect(await store.currentHead()).toEqual({ seq: 3, hash: events[2]!.hash });
  });

  it('keeps one linear chain when two writers append concurrently', async () => {
    const other = await openPgAuditStore({ connectionString: db.appUrl, schema: db.schema });
    try {
      await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? store : other).append(sampleEvents(3, i * 3 + 1))));
    } finally {
      await other.close();
    }
    const seqs = (await app.query(`SELECT seq FROM ${db.schema}.audit_event ORDER BY seq`)).rows.map((r) => Number(r.seq));
    expect(seqs).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    expect(await store.verify()).toMatchObject({ ok: true, count: 48, head: { seq: 48 } });
  });

  it('refuses to open a schema that was never migrated, pointing at the migration', async () => {
    await expect(openPgAuditStore({ connectionString: db.appUrl, schema: `${db.schema}_missing` })).rejects.toThrow(/pds-trace audit migrate/);
  });

  it('reports a database failure without the row (PostgreSQL details quote whole rows)', async () => {
    await store.append(sampleEvents(1));
    // Move the head back behind the store's back so its next append collides with event 1.
    const existing = (await store.search())[0]!;
    await tamper(`UPDATE $S.audit_head SET seq = 0, hash = '${'0'.repeat(64)}'`);
    const error = await store.append(sampleEvents(1, 2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditDatabaseError);
    expect((error as AuditDatabaseError).code).toBe('23505');
    expect(String((error as Error).message)).not.toContain(existing.nhsNumber!);
  });

  it('refuses schema and role names that are not plain identifiers', async () => {
    await expect(migratePgAuditSchema(TEST_DATABASE_URL, { schema: 'x; DROP TABLE y' })).rejects.toThrow(PgIdentifierError);
    await expect(migratePgAuditSchema(TEST_DATABASE_URL, { schema: db.schema, appRole: 'Robert"); --' })).rejects.toThrow(PgIdentifierError);
  });

  it('migrates idempotently: a second run keeps the events and the chain', async () => {
    await store.append(sampleEvents(3));
    await migratePgAuditSchema(TEST_DATABASE_URL, { schema: db.schema, appRole: db.appRole });
    expect(await store.verify()).toMatchObject({ ok: true, count: 3 });
  });
});

describe('PostgreSQL audit store: the database refuses changes', () => {
  beforeEach(async () => {
    await store.append(sampleEvents(4));
  });

  it.each([
    ['UPDATE', `UPDATE $S.audit_event SET outcome = 'no_match' WHERE seq = 2`],
    ['DELETE', `DELETE FROM $S.audit_event WHERE seq = 4`],
    ['TRUNCATE', `TRUNCATE $S.audit_event`],
    ['UPDATE of the head', `UPDATE $S.audit_head SET seq = 2`],
  ])('refuses %s by the application role', async (_label, sql) => {
    await expect(app.query(sql.replaceAll('$S', db.schema))).rejects.toMatchObject({ code: '42501' });
    expect(await store.verify()).toMatchObject({ ok: true, count: 4 });
  });

  it.each([
    ['UPDATE', `UPDATE $S.audit_event SET outcome = 'no_match' WHERE seq = 2`, /append-only: UPDATE/],
    ['DELETE', `DELETE FROM $S.audit_event WHERE seq = 4`, /append-only: DELETE/],
    ['TRUNCATE', `TRUNCATE $S.audit_event`, /append-only: TRUNCATE/],
    ['UPDATE of the head', `UPDATE $S.audit_head SET seq = 2`, /moves only when an event is appended/],
  ])('refuses %s even by the owner while the triggers stand', async (_label, sql, message) => {
    await expect(db.owner.query(sql.replaceAll('$S', db.schema))).rejects.toThrow(message);
    expect(await store.verify()).toMatchObject({ ok: true, count: 4 });
  });

  it('refuses an inserted event that does not extend the head, even from a writer skipping the lock', async () => {
    const [last] = (await store.search({})).slice(-1);
    const insert = `INSERT INTO ${db.schema}.audit_event (seq, time, kind, user_id, role, prev_hash, hash) VALUES ($1, now(), 'sign_in', 'mallory', '', $2, $3)`;
    await expect(app.query(insert, [7, last!.hash, 'f'.repeat(64)])).rejects.toThrow(/does not extend the chain head/);
    await expect(app.query(insert, [5, 'e'.repeat(64), 'f'.repeat(64)])).rejects.toThrow(/does not extend the chain head/);
  });
});

describe('PostgreSQL audit store: tampering by a superuser is detected', () => {
  beforeEach(async () => {
    await store.append(sampleEvents(8));
  });

  it('detects an edited field and names its seq', async () => {
    await tamper(`UPDATE $S.audit_event SET outcome = 'no_match' WHERE seq = 3`);
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'edited', seq: 3 } });
  });

  it('detects a deleted row and names the missing seq', async () => {
    await tamper('DELETE FROM $S.audit_event WHERE seq = 4');
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'deleted', seq: 4 } });
  });

  it('detects rows renumbered into each other’s places as reordered', async () => {
    await tamper('UPDATE $S.audit_event SET seq = 1000 WHERE seq = 3');
    await tamper('UPDATE $S.audit_event SET seq = 3 WHERE seq = 4');
    await tamper('UPDATE $S.audit_event SET seq = 4 WHERE seq = 1000');
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'reordered', seq: 3 } });
  });

  it('detects rows cut off the end against the head', async () => {
    await tamper('DELETE FROM $S.audit_event WHERE seq > 6');
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'truncated', seq: 7 } });
  });

  it('detects a cut whose head was moved back too, against a head noted elsewhere', async () => {
    const events = await store.search();
    const noted = { seq: 8, hash: events[7]!.hash };
    await tamper('DELETE FROM $S.audit_event WHERE seq > 6');
    await tamper(`UPDATE $S.audit_head SET seq = 6, hash = '${events[5]!.hash}'`);
    expect(await store.verify({ expectedHeads: [noted] })).toMatchObject({ ok: false, problem: { kind: 'truncated', seq: 7 } });
  });
});
