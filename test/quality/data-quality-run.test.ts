import { readFile, rm, stat } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { BACK_OFFICE_COLUMNS } from '../../src/quality/back-office-report.js';
import { PROTECTIVE_MARKING_COLUMN } from '../../src/quality/report-csv.js';
import { DISCREPANCY_REPORT_COLUMNS } from '../../src/quality/discrepancy-report.js';
import type { BatchSummary } from '../../src/csv/output/summary.js';
import { formatNhsNumberForDisplay } from '../../src/domain/nhs-number.js';
import { assembleBatch } from '../../src/pipeline/assemble.js';
import { createBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import type { AuditSink } from '../../src/pipeline/audit-sink.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import { DISCREPANCY_FIELDS } from '../../src/domain/findings.js';
import { DQ_FLAG_ORDER, flagWarning } from '../../src/domain/dq-flags.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { batchOptions, expectResultsMatchGroundTruth, tempDir } from '../support/pipeline.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { writeDqCohort, type DqCohort } from './dq-cohort.js';

const POPULATION = { seed: 'dq-e2e', size: 5000 };
const LIMITS = { maxInFlight: 4, maxRatePerSecond: 400, windowSlackMs: 150 };

/** A report CSV read strictly: the column names first, every record as wide. */
async function readReport(file: string): Promise<{ header: string[]; records: Array<Record<string, string>> }> {
  const text = await readFile(file, 'utf8');
  return {
    header: (parse(text, { to_line: 1 }) as string[][])[0]!,
    records: parse(text, { columns: true, relax_column_count: false }) as Array<Record<string, string>>,
  };
}

describe('data-quality handling end to end: a cohort with duplicates, merges, invalidated numbers and differences from PDS', () => {
  let simulator: TestSimulator;
  let client: SmspClient;
  let dir: string;
  let cohort: DqCohort;
  let meta: BatchMeta;
  let results: Array<Record<string, string>>;

  beforeAll(async () => {
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 1 });
    const settings = { ...loadConfig({}).smsp, url: simulator.url, maxInFlight: LIMITS.maxInFlight, maxRatePerSecond: LIMITS.maxRatePerSecond };
    client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter(LIMITS) });
    dir = await tempDir('data-quality');
    cohort = await writeDqCohort({ ...POPULATION, outDir: dir, name: 'dq' });
    // The audit trail is not under test here: events are only counted.
    let events = 0;
    const audit: AuditSink = { append: async (batch) => (events += batch.length) };
    const batch = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out`, { chunkSize: 5 }), smspProvider(simulator.url));
    const run = await runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: LIMITS.maxInFlight });
    meta = run.meta;
    expect(events).toBeGreaterThan(0);
    results = expectResultsMatchGroundTruth(meta.outputs!.results, cohort.expectedPath);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await simulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('traces every row to its expected status and NHS number (the cohort is realistic, not rigged)', () => {
    expect(meta.state).toBe('assembled');
    expect(results.map((r) => r.trace_status)).toEqual(cohort.rows.map((r) => r.status));
  });

  it('carries each row\'s data-quality flags and differing fields in the results, and nothing on clean rows', () => {
    const got = results.map((r, i) => ({ row: i + 1, flags: r.trace_dq_flags, discrepancies: r.trace_discrepancies }));
    const want = cohort.rows.map((r) => ({ row: r.rowNumber, flags: r.flags.join(';'), discrepancies: r.discrepancies.join(';') }));
    expect(got).toEqual(want);
    // Machines get ten digits: the superseded row reports the replacement and the number it replaced.
    const superseded = cohort.rows.find((r) => r.flags.includes('superseded_replacement_in_file') && r.status === 'superseded')!;
    expect(results[superseded.rowNumber - 1]!.trace_nhs_number).toMatch(/^\d{10}$/);
    expect(results[superseded.rowNumber - 1]!.trace_superseded_nhs_number).toMatch(/^\d{10}$/);
  });

  it('assembles the same rows, reports and flags from the repeated local ids ingest listed as from its own check (older batches)', async () => {
    expect(meta.localIdRepeats).toBe(cohort.rows.filter((r) => r.flags.includes('duplicate_local_id')).length);
    expect(meta.localIdRepeats).toBeGreaterThan(0);
    const { localIdRepeats: _listed, ...unlisted } = meta;
    const older = await assembleBatch(`${dir}/data`, { ...unlisted, options: { ...meta.options, outDir: `${dir}/out-older` } }, { startedAt: new Date(meta.createdAt) });
    for (const output of ['results', 'backOffice', 'discrepancies'] as const) {
      expect(await readFile(older.meta.outputs![output], 'utf8')).toEqual(await readFile(meta.outputs![output], 'utf8'));
    }
  });

  it('lists every finding in the back-office report with its warning, related rows and local identifiers', async () => {
    expect(meta.outputs!.backOffice).toBe(`${dir}/out/dq.back-office.csv`);
    expect((await stat(meta.outputs!.backOffice)).mode & 0o777).toBe(0o600);
    const { header, records } = await readReport(meta.outputs!.backOffice);
    expect(header).toEqual([...BACK_OFFICE_COLUMNS, PROTECTIVE_MARKING_COLUMN]);

    const want = cohort.rows.flatMap((r) =>
      r.flags.map((flag) => ({ row: String(r.rowNumber), localId: r.localId, flag, warning: flagWarning(flag), related: (r.related[flag] ?? []).join('; ') })),
    );
    expect(records.map((l) => ({ row: l.row_number, localId: l.local_id, flag: l.flag, warning: l.warning, related: l.related_rows }))).toEqual(want);

    const input = parse(await readFile(cohort.csvPath, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    for (const line of records) {
      const source = input[Number(line.row_number) - 1]!;
      // Enough to find the local record (FLGINV-10.1.2), as the file holds it; NHS numbers for people in 3-3-4.
      expect(line).toMatchObject({ family_name: source.family_name, date_of_birth: source.date_of_birth, sex: source.sex, postcode: source.postcode });
      expect(line.supplied_nhs_number).toBe(formatNhsNumberForDisplay(source.nhs_number ?? ''));
    }
    const died = records.find((l) => l.flag === 'pds_date_of_death')!;
    expect(died.detail).toMatch(/^PDS records a date of death: \d{4}(-\d{2}){0,2}$/);
    const invalidated = records.find((l) => l.flag === 'invalidated_record')!;
    expect(invalidated.supplied_nhs_number).toMatch(/^\d{3} \d{3} \d{4}$/);
    expect(invalidated.detail).toContain('INVALID on PDS');
    const merge = records.filter((l) => l.flag === 'superseded_replacement_in_file');
    expect(merge.map((l) => l.trace_status)).toEqual(['superseded', 'verified']);
    // The old row was replaced by exactly the number the other row holds.
    expect(merge[0]!.returned_nhs_number).toBe(merge[1]!.supplied_nhs_number);
  });

  it('lists every difference from PDS in the discrepancy report, field by field', async () => {
    const { header, records } = await readReport(meta.outputs!.discrepancies);
    expect(header).toEqual([...DISCREPANCY_REPORT_COLUMNS, PROTECTIVE_MARKING_COLUMN]);
    const want = cohort.rows.flatMap((r) => r.discrepancies.map((field) => `${r.rowNumber}:${field}`));
    expect(records.map((l) => `${l.row_number}:${l.field}`)).toEqual(want);

    const byKey = new Map(records.map((l) => [`${l.row_number}:${l.field}`, l]));
    const row = (field: string) => cohort.rows.find((r) => r.discrepancies.includes(field as never))!.rowNumber;
    expect(byKey.get(`${row('address')}:address`)!.local_value).toMatch(/^99 Nowhere Lane, /);
    expect(byKey.get(`${row('gp_practice')}:gp_practice`)).toMatchObject({ local_value: 'Y99999', pds_value: expect.stringMatching(/^[A-Z]\d{5}$/) });
    // The file has no date-of-death column: a death on PDS is no difference from it.
    expect(records.filter((l) => l.field === 'date_of_death')).toEqual([]);
    for (const line of records) expect(line.pds_nhs_number).toMatch(/^\d{3} \d{3} \d{4}$/);
  });

  it('counts rows per flag and per differing field in the summary, JSON and HTML (MSCA-DQ-05)', async () => {
    const summary = JSON.parse(await readFile(meta.outputs!.summaryJson, 'utf8')) as BatchSummary;
    const flagCounts = Object.fromEntries(DQ_FLAG_ORDER.map((flag) => [flag, cohort.rows.filter((r) => r.flags.includes(flag)).length]));
    expect(summary.flaggedRows).toEqual(flagCounts);
    expect(summary.discrepancies).toEqual({
      rows: cohort.rows.filter((r) => r.discrepancies.length > 0).length,
      byField: Object.fromEntries(DISCREPANCY_FIELDS.map((field) => [field, cohort.rows.filter((r) => r.discrepancies.includes(field)).length])),
    });

    const html = await readFile(meta.outputs!.summaryHtml, 'utf8');
    expect(html).toContain('<h2>Back-office review</h2>');
    expect(html).toMatch(/<td>Invalidated NHS number<\/td><td>invalidated_record<\/td><td>[^<]*<\/td><td class="num">1<\/td>/);
    expect(html).toMatch(/<td>Duplicate NHS number in the file<\/td><td>duplicate_nhs_number<\/td><td>[^<]*<\/td><td class="num">4<\/td>/);
    expect(html).toContain('counter(pages)');
    // The summary names no patient: no NHS number in either form.
    expect(html).not.toMatch(/\b\d{10}\b|\b\d{3} \d{3} \d{4}\b/);
  });
});
