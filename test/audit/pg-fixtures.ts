import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migratePgAuditSchema } from '../../src/audit/pg-schema.js';

/**
 * A throwaway audit schema and insert-only application role on the machine's PostgreSQL
 * (`.ci/run` makes sure it answers on 127.0.0.1:5432 with trust authentication), dropped after.
 */

export const TEST_DATABASE_URL = process.env.PDS_TRACE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  schema: string;
  appRole: string;
  /** The superuser (owner) connection string. */
  ownerUrl: string;
  /** The same server, as the application role. */
  appUrl: string;
  /** A superuser client, for tampering "behind the application's back". */
  owner: pg.Client;
  drop(): Promise<void>;
}

function urlAs(base: string, user: string): string {
  const url = new URL(base);
  url.username = user;
  url.password = '';
  return url.toString();
}

/** One role per test file; schemas come and go per test. */
export async function createAppRole(): Promise<{ appRole: string; dropRole: () => Promise<void> }> {
  const appRole = `pds_trace_app_${randomBytes(5).toString('hex')}`;
  return {
    appRole,
    dropRole: async () => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP ROLE IF EXISTS ${appRole}`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function createTestSchema(appRole: string): Promise<TestSchema> {
  const schema = `pds_trace_audit_t_${randomBytes(5).toString('hex')}`;
  await migratePgAuditSchema(TEST_DATABASE_URL, { schema, appRole });
  const owner = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await owner.connect();
  return {
    schema,
    appRole,
    ownerUrl: TEST_DATABASE_URL,
    appUrl: urlAs(TEST_DATABASE_URL, appRole),
    owner,
    async drop() {
      await owner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await owner.end();
    },
  };
}
