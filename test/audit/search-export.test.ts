import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_CSV_COLUMNS } from '../../src/audit/csv-export.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { openFileAuditStore } from '../../src/audit/file-store.js';
import { AuditDatabaseError } from '../../src/audit/pg-errors.js';
import { openPgAuditStore } from '../../src/audit/pg-store.js';
import { auditDir, openAuditStore, type AuditStore } from '../../src/audit/store.js';
import { loadConfig } from '../../src/config.js';
import { sampleEvent, sampleEvents, tempFolder, TEST_NHS_NUMBERS } from './fixtures.js';
import { createAppRole, createTestSchema, type TestSchema } from './pg-fixtures.js';

/** The same search and export behaviour, whichever store holds the trail. */

let role: Awaited<ReturnType<typeof createAppRole>>;
beforeAll(async () => {
  role = await createAppRole();
});
afterAll(async () => {
  await role.dropRole();
});

interface Opened {
  store: AuditStore;
  close: () => Promise<void>;
}

const STORES: [string, () => Promise<Opened>][] = [
  [
    'file',
    async () => {
      const folder = await tempFolder('pds-trace-audit-search-');
      const store = await openFileAuditStore(folder.dir);
      return { store, close: async () => folder.remove() };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const db: TestSchema = await createTestSchema(role.appRole);
      const store = await openPgAuditStore({ connectionString: db.appUrl, schema: db.schema });
      return {
        store,
        close: async () => {
          await store.close();
          await db.drop();
        },
      };
    },
  ],
];

describe.each(STORES)('%s audit store: search and export', (_name, open) => {
  let opened: Opened;
  let all: AuditEvent[];
  let exportDir: { dir: string; remove: () => Promise<void> };

  beforeEach(async () => {
    opened = await open();
    exportDir = await tempFolder('pds-trace-audit-export-');
    all = await opened.store.append([
      ...sampleEvents(12),
      sampleEvent(13, { kind: 'sign_in', user: 'carol', role: 'auditor', batchId: undefined, row: undefined, interaction: undefined, messageId: undefined, nhsNumber: undefined, outcome: 'success', detail: '=HYPERLINK("x")' }),
    ]);
  });

  afterEach(async () => {
    await opened.close();
    await exportDir.remove();
  });

  const seqs = (events: AuditEvent[]) => events.map((e) => e.seq);

  it('finds events by user', async () => {
    expect(seqs(await opened.store.search({ user: 'alice' }))).toEqual([2, 4, 6, 8, 10, 12]);
    expect(await opened.store.search({ user: 'nobody' })).toEqual([]);
  });

  it('finds events by message id', async () => {
    expect(await opened.store.search({ messageId: 'MSG-0007' })).toEqual([all[6]]);
  });

  it('finds events by NHS number', async () => {
    expect(seqs(await opened.store.search({ nhsNumber: TEST_NHS_NUMBERS[0] }))).toEqual([3, 6, 9, 12]);
  });

  it('finds events in a time range, from inclusive and to exclusive', async () => {
    const from = new Date(all[3]!.time);
    const to = new Date(all[6]!.time);
    expect(seqs(await opened.store.search({ from, to }))).toEqual([4, 5, 6]);
  });

  it('combines filters and honours the limit', async () => {
    expect(seqs(await opened.store.search({ user: 'bob', batchId: 'batch-1' }))).toEqual([1, 7]);
    expect(seqs(await opened.store.search({ kind: 'sign_in' }))).toEqual([13]);
    expect(seqs(await opened.store.search({ user: 'alice', limit: 2 }))).toEqual([2, 4]);
  });

  it('gives back events exactly as appended, hashes included', async () => {
    expect(await opened.store.search()).toEqual(all);
  });

  it('exports matching events to an owner-only CSV with every field, formula-guarded', async () => {
    const file = path.join(exportDir.dir, 'audit.csv');
    expect(await opened.store.exportCsv(file, { user: 'carol' })).toBe(1);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(rows[0]).toMatchObject({ seq: '13', kind: 'sign_in', user: 'carol', role: 'auditor', nhs_number: '', detail: `'=HYPERLINK("x")`, hash: all[12]!.hash });

    const everything = path.join(exportDir.dir, 'all.csv');
    expect(await opened.store.exportCsv(everything)).toBe(13);
    const allRows = parse(await readFile(everything, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(allRows[6]).toMatchObject({ seq: '7', message_id: 'MSG-0007', nhs_number: all[6]!.nhsNumber, row: '7', batch_id: 'batch-1', prev_hash: all[5]!.hash });
  });
});

describe('openAuditStore', () => {
  it('takes AUDIT_DATABASE_URL from the configuration, postgres URLs only', () => {
    expect(loadConfig({ AUDIT_DATABASE_URL: 'postgres://app@db.example:5432/audit' }).auditDatabaseUrl).toBe('postgres://app@db.example:5432/audit');
    expect(loadConfig({}).auditDatabaseUrl).toBeUndefined();
    expect(() => loadConfig({ AUDIT_DATABASE_URL: 'https://db.example/audit' })).toThrow(/AUDIT_DATABASE_URL/);
  });

  it('uses the file store under <dataDir>/audit when no database is configured', async () => {
    const folder = await tempFolder('pds-trace-audit-open-');
    try {
      const store = await openAuditStore({ dataDir: folder.dir });
      expect(store.location).toBe(auditDir(folder.dir));
      await store.append(sampleEvents(1));
      expect((await stat(path.join(folder.dir, 'audit', 'events.jsonl'))).size).toBeGreaterThan(0);
      await store.close();
    } finally {
      await folder.remove();
    }
  });

  it('uses PostgreSQL when AUDIT_DATABASE_URL is set, reporting where without credentials', async () => {
    const error = await openAuditStore({ dataDir: '/nonexistent', auditDatabaseUrl: 'postgres://someone:secret@127.0.0.1:1/audit' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditDatabaseError);
    expect((error as AuditDatabaseError).location).toBe('postgres://127.0.0.1:1/audit (schema pds_trace_audit)');
    expect((error as Error).message).not.toContain('secret');
  });
});
