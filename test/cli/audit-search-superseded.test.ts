import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openFileAuditStore } from '../../src/audit/file-store.js';
import { migratePgAuditSchema } from '../../src/audit/pg-schema.js';
import { openPgAuditStore } from '../../src/audit/pg-store.js';
import { auditDir, type AuditStore } from '../../src/audit/store.js';
import { hashPassword } from '../../src/auth/password.js';
import { openRecordedUserStore } from '../../src/auth/recorded-user-store.js';
import { loadConfig } from '../../src/config.js';
import { createBatch } from '../../src/pipeline/batch.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import { createPopulation } from '../../src/simulator/population/population.js';
import type { SyntheticPerson } from '../../src/simulator/population/person.js';
import { createSmspClient } from '../../src/smsp/client.js';
import { runCli } from '../auth/cli-harness.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from '../auth/fixtures.js';
import { SUPERSEDED_NUMBERS, SUPERSEDED_TRAIL, tempFolder } from '../audit/fixtures.js';
import { TEST_DATABASE_URL } from '../audit/pg-fixtures.js';
import { batchOptions, readCsv } from '../support/pipeline.js';
import { startTestSimulator } from '../support/simulator.js';

/**
 * `audit search --nhs-number` finds every access about a person: under a number PDS said was
 * superseded and under its replacement alike, from either end, and says which number each event
 * matched under. The same with the file store and PostgreSQL.
 */

const { X, Y, W, Z } = SUPERSEDED_NUMBERS;

interface Trail {
  env: Record<string, string>;
  store: AuditStore;
  close: () => Promise<void>;
}

async function withAuditor(dataDir: string, store: AuditStore): Promise<void> {
  const users = await openRecordedUserStore(dataDir, { sink: store, trail: store });
  const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
  await users.add({ id: 'ada', roles: ['admin'], kind: 'person', passwordHash });
  await users.add({ id: 'aud', roles: ['auditor'], kind: 'person', passwordHash });
}

const appRole = `pds_trace_app_${randomBytes(5).toString('hex')}`;
let admin: pg.Client;
beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
});
afterAll(async () => {
  await admin.query(`DROP ROLE IF EXISTS ${appRole}`);
  await admin.end();
});

const TRAILS: [string, (dataDir: string) => Promise<Trail>][] = [
  [
    'file',
    async (dataDir) => {
      const store = await openFileAuditStore(auditDir(dataDir));
      return { env: {}, store, close: async () => undefined };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const database = `pds_trace_sup_${randomBytes(5).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${database}`);
      const ownerUrl = new URL(TEST_DATABASE_URL);
      ownerUrl.pathname = `/${database}`;
      await migratePgAuditSchema(ownerUrl.toString(), { appRole });
      const appUrl = new URL(ownerUrl);
      appUrl.username = appRole;
      const store = await openPgAuditStore({ connectionString: appUrl.toString() });
      return {
        env: { AUDIT_DATABASE_URL: appUrl.toString() },
        store,
        close: async () => {
          await store.close();
          await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        },
      };
    },
  ],
];

/** The rows of a search's table: column name → value. */
function table(stdout: string): Array<Record<string, string>> {
  const [header, ...lines] = stdout.trim().split('\n');
  const columns = header!.split('\t');
  return lines.map((line) => Object.fromEntries(line.split('\t').map((value, i) => [columns[i], value])));
}

describe.each(TRAILS)('audit search --nhs-number with the %s store', (_name, openTrail) => {
  let folder: { dir: string; remove: () => Promise<void> };
  let trail: Trail;
  let env: Record<string, string>;

  beforeEach(async () => {
    folder = await tempFolder('pds-trace-audit-superseded-');
    trail = await openTrail(folder.dir);
    await trail.store.append(SUPERSEDED_TRAIL);
    await withAuditor(folder.dir, trail.store);
    env = { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_PASSWORD: GOOD_PASSWORD, ...trail.env };
  });

  afterEach(async () => {
    await trail.close();
    await folder.remove();
  });

  it('finds the events under the superseded number and every replacement, saying which number each matched under', async () => {
    const run = await runCli(['audit', 'search', '--nhs-number', X, '--as', 'aud'], env);
    expect(run.error).toBeUndefined();
    expect(table(run.stdout).map((r) => [r.seq, r.nhsNumber, r.matchedUnder])).toEqual([
      ['1', X, X],
      ['2', Y, `${Y} (replacement of ${X})`],
      ['3', Y, `${Y} (replacement of ${X})`],
      ['8', W, `${W} (replacement of ${Y})`],
    ]);
    expect(run.stderr).toContain(`note: ${X} was superseded by ${Y} (event 2): events under both numbers are included.`);
    expect(run.stderr).toContain(`note: ${Y} was superseded by ${W} (event 8)`);
    const recorded = (await trail.store.search({ kind: 'audit_searched' })).at(-1);
    expect(recorded).toMatchObject({ user: 'aud', nhsNumber: X, detail: `filters=nhsNumber events=4 related_nhs_numbers=${Y},${W}` });
  });

  it('finds the same events from the replacement, and nothing more for an unrelated number', async () => {
    const fromNewest = await runCli(['audit', 'search', '--nhs-number', W, '--as', 'aud'], env);
    expect(table(fromNewest.stdout).map((r) => [r.seq, r.matchedUnder])).toEqual([
      ['1', `${X} (superseded by ${Y})`],
      ['2', `${Y} (superseded by ${W})`],
      ['3', `${Y} (superseded by ${W})`],
      ['8', W],
    ]);
    const unrelated = await runCli(['audit', 'search', '--nhs-number', Z, '--as', 'aud'], env);
    expect(table(unrelated.stdout).map((r) => [r.seq, r.matchedUnder])).toEqual([
      ['4', Z],
      ['5', Z],
      ['6', Z],
      ['7', Z],
    ]);
    expect(unrelated.stderr).not.toContain('superseded by');
  });

  it('exports the same events with a matched_under column', async () => {
    const file = path.join(folder.dir, 'person.csv');
    const run = await runCli(['audit', 'search', '--nhs-number', Y, '--csv', file, '--as', 'aud'], env);
    expect(run.stdout).toBe(`4 events written to ${file}\n`);
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.seq, r.nhs_number, r.matched_under])).toEqual([
      ['1', X, `${X} (superseded by ${Y})`],
      ['2', Y, Y],
      ['3', Y, Y],
      ['8', W, `${W} (replacement of ${Y})`],
    ]);
  });
});

describe('audit search after a real trace of a superseded number', () => {
  const POPULATION = { seed: 'audit-superseded', size: 2000 };
  let folder: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    folder = await tempFolder('pds-trace-audit-superseded-e2e-');
  });
  afterAll(async () => {
    await folder.remove();
  });

  it('finds the exchange that returned the replacement when searched by the number supplied, and the other way round', async () => {
    const population = createPopulation(POPULATION);
    let person: SyntheticPerson | undefined;
    for (let i = 0; i < population.size && !person; i++) {
      const p = population.person(i);
      if (p.record === 'superseded' && p.supersededBy && p.dateOfBirth.length === 8) person = p;
    }
    expect(person, 'a superseded record in the synthetic population').toBeDefined();
    const supplied = person!.nhsNumber;
    const replacement = person!.supersededBy!;
    const dob = person!.dateOfBirth;
    const input = path.join(folder.dir, 'one.csv');
    await writeFile(input, `nhs_number,family_name,date_of_birth\n${supplied},${person!.familyName},${dob.slice(0, 4)}-${dob.slice(4, 6)}-${dob.slice(6, 8)}\n`);

    const simulator = await startTestSimulator({ ...POPULATION, latencyMs: 1 });
    const limits = { maxInFlight: 2, maxRatePerSecond: 100, windowSlackMs: 150 };
    const client = await createSmspClient({ ...loadConfig({}).smsp, url: simulator.url }, { tls: simulator.clientTls, limiter: createLocalLimiter(limits) });
    const dataDir = path.join(folder.dir, 'data');
    const audit = await openFileAuditStore(auditDir(dataDir));
    try {
      const batch = await createBatch(dataDir, input, batchOptions(path.join(folder.dir, 'out')), smspProvider(simulator.url));
      const run = await runBatchEmbedded(dataDir, batch, { caller: client, audit, maxInFlight: 2 });
      const [row] = readCsv(run.meta.outputs!.results);
      expect(row).toMatchObject({ trace_status: 'superseded', trace_nhs_number: replacement, trace_superseded_nhs_number: supplied });
      await withAuditor(dataDir, audit);
    } finally {
      client.close();
      await simulator.close();
      await audit.close();
    }

    const env = { PDS_TRACE_DATA_DIR: dataDir, PDS_TRACE_PASSWORD: GOOD_PASSWORD };
    for (const [searched, other] of [
      [supplied, `${replacement} (replacement of ${supplied})`],
      [replacement, replacement],
    ]) {
      const search = await runCli(['audit', 'search', '--nhs-number', searched!, '--kind', 'smsp_exchange', '--as', 'aud'], env);
      expect(search.error).toBeUndefined();
      const rows = table(search.stdout);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.nhsNumber === replacement && r.outcome === 'superseded' && r.matchedUnder === other)).toBe(true);
    }
  }, 60_000);
});
