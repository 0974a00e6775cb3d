import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditRuntimeRoleError } from '../../src/audit/pg-errors.js';
import { migratePgAuditSchema } from '../../src/audit/pg-schema.js';
import { openPgAuditStore } from '../../src/audit/pg-store.js';
import { ConfigError } from '../../src/config.js';
import { sampleEvents } from './fixtures.js';
import { createAppRole, createTestSchema, TEST_DATABASE_URL, type TestSchema } from './pg-fixtures.js';

/**
 * A PostgreSQL connection as the tables' owner can disable the triggers and re-chain. The runtime
 * role `audit migrate` creates must not be able to: these run against the real server.
 */

let role: Awaited<ReturnType<typeof createAppRole>>;
let db: TestSchema;
let app: pg.Client;

beforeAll(async () => {
  role = await createAppRole();
});

afterAll(async () => {
  await role.dropRole();
});

beforeEach(async () => {
  db = await createTestSchema(role.appRole);
  const store = await openPgAuditStore({ connectionString: db.appUrl, schema: db.schema });
  await store.append(sampleEvents(3));
  await store.close();
  app = new pg.Client({ connectionString: db.appUrl });
  await app.connect();
});

afterEach(async () => {
  await app.end();
  await db.drop();
});

describe('the insert-only runtime role', () => {
  it.each([
    ['DISABLE TRIGGER', 'ALTER TABLE $S.audit_event DISABLE TRIGGER audit_event_refuse_change'],
    ['DISABLE TRIGGER ALL', 'ALTER TABLE $S.audit_event DISABLE TRIGGER ALL'],
    ['DROP TRIGGER', 'DROP TRIGGER audit_event_refuse_change ON $S.audit_event'],
    ['DISABLE the head trigger', 'ALTER TABLE $S.audit_head DISABLE TRIGGER audit_head_guard'],
    ['replica mode (skips triggers)', "SET session_replication_role = 'replica'"],
    ['UPDATE', "UPDATE $S.audit_event SET outcome = 'no_match' WHERE seq = 2"],
    ['DELETE', 'DELETE FROM $S.audit_event WHERE seq = 3'],
    ['TRUNCATE', 'TRUNCATE $S.audit_event'],
  ])('cannot %s', async (_label, sql) => {
    await expect(app.query(sql.replaceAll('$S', db.schema))).rejects.toMatchObject({ code: '42501' });
    const triggers = await db.owner.query(`SELECT bool_and(tgenabled = 'O') AS enabled FROM pg_trigger WHERE tgrelid = '${db.schema}.audit_event'::regclass AND NOT tgisinternal`);
    expect(triggers.rows[0]).toEqual({ enabled: true });
    const events = await db.owner.query(`SELECT count(*)::int AS n FROM ${db.schema}.audit_event`);
    expect(events.rows[0]).toEqual({ n: 3 });
  });

  it('is what the store runs as; the owner (or a superuser) is refused as a configuration error', async () => {
    const error = await openPgAuditStore({ connectionString: db.ownerUrl, schema: db.schema }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditRuntimeRoleError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/can change the audit trail .* the owner must not be the runtime role/);
  });

  it('is refused by the store once it is granted UPDATE, DELETE or TRUNCATE', async () => {
    await db.owner.query(`GRANT DELETE ON ${db.schema}.audit_event TO ${role.appRole}`);
    await expect(openPgAuditStore({ connectionString: db.appUrl, schema: db.schema })).rejects.toThrow(AuditRuntimeRoleError);
  });
});

describe('audit migrate and the role it grants', () => {
  it('refuses to grant "insert and read" to a role that could change rows anyway (a superuser)', async () => {
    const superRole = `pds_trace_su_${randomBytes(5).toString('hex')}`;
    await db.owner.query(`CREATE ROLE ${superRole} SUPERUSER`);
    try {
      await expect(migratePgAuditSchema(TEST_DATABASE_URL, { schema: db.schema, appRole: superRole })).rejects.toThrow(AuditRuntimeRoleError);
    } finally {
      await db.owner.query(`DROP OWNED BY ${superRole}`);
      await db.owner.query(`DROP ROLE ${superRole}`);
    }
  });
});
