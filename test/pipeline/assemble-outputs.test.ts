import { readdir, readFile, rm } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import { loadConfig } from '../../src/config.js';
import { AUDIT_COLUMNS } from '../../src/csv/output/audit-writer.js';
import { MESH_RESPONSE_COLUMNS, TRACE_COLUMNS } from '../../src/csv/output/results-writer.js';
import { PDS_TRACE_VERSION } from '../../src/csv/output/provenance.js';
import type { BatchSummary } from '../../src/csv/output/summary.js';
import { BACK_OFFICE_COLUMNS } from '../../src/quality/back-office-report.js';
import { PROTECTIVE_MARKING_COLUMN } from '../../src/quality/report-csv.js';
import { DISCREPANCY_REPORT_COLUMNS } from '../../src/quality/discrepancy-report.js';
import { batchPaths, createBatch, loadBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { describeProvider, smspProvider } from '../../src/pipeline/provider.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import type { SmspCaller } from '../../src/pipeline/strategy.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { batchOptions, expectResultsMatchGroundTruth, openTestAudit, tempDir } from '../support/pipeline.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';

/**
 * The files a batch leaves for other programs: every CSV read back by a strict reader (header
 * first, every record as wide, as Python's csv and pandas expect), the batch's CSV options on every
 * one of them, and an audit CSV that lists every exchange the central audit store holds for the
 * batch, those of a chunk interrupted mid-way and traced again included.
 */

const POPULATION = { seed: 'assemble-outputs', size: 4000 };
const LIMITS = { maxInFlight: 4, maxRatePerSecond: 400, windowSlackMs: 150 };
const ROWS = 120;

/** A CSV output read strictly; the BOM, if any, reported apart. */
async function readStrict(file: string, fromLine = 1): Promise<{ bom: boolean; header: string[]; records: string[][] }> {
  const bytes = await readFile(file);
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  // relax_column_count false: a record of another width than the first throws.
  const lines = parse(text, { from_line: fromLine, relax_column_count: false }) as string[][];
  const [header, ...records] = lines;
  return { bom, header: header!, records };
}

/** Records keyed by the header, as `columns: true` gives them (strict too). */
function keyed(text: string): Array<Record<string, string>> {
  return parse(text.replace(/^\uFEFF/, ''), { columns: true, relax_column_count: false }) as Array<Record<string, string>>;
}

describe('batch outputs other programs read', () => {
  let simulator: TestSimulator;
  let client: SmspClient;
  let dir: string;
  let audit: AuditStore;

  beforeAll(async () => {
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 5 });
    const settings = { ...loadConfig({}).smsp, url: simulator.url, maxInFlight: LIMITS.maxInFlight, maxRatePerSecond: LIMITS.maxRatePerSecond };
    client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter(LIMITS) });
    dir = await tempDir('assemble-outputs');
    audit = await openTestAudit(dir);
  }, 60_000);

  afterAll(async () => {
    await audit?.close();
    client?.close();
    await simulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('a native batch interrupted mid-chunk, then traced to the end, with --bom', () => {
    let meta: BatchMeta;
    let cohort: { csvPath: string; expectedPath: string };
    let requestsBeforeInterruption = 0;

    beforeAll(async () => {
      cohort = await writeCohort({ ...POPULATION, rows: ROWS, outDir: dir, name: 'interrupted' });
      const created = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out`, { chunkSize: 40, bom: true }), smspProvider(simulator.url));
      // The first run stops after 30 requests, in the middle of its chunks: a shutdown.
      const stop = new AbortController();
      let calls = 0;
      const interrupting: SmspCaller = {
        call: (interaction, query, options) => {
          if (++calls === 30) stop.abort(new Error('shutting down'));
          return client.call(interaction, query, options);
        },
      };
      await expect(runBatchEmbedded(`${dir}/data`, created, { caller: interrupting, audit, maxInFlight: LIMITS.maxInFlight, signal: stop.signal })).rejects.toThrow();
      requestsBeforeInterruption = simulator.metrics().requestsTotal;
      const ingested = await loadBatch(`${dir}/data`, created.id);
      expect(ingested.state).toBe('ingested');
      // Resumed: the interrupted chunks are traced again from their first row.
      meta = (await runBatchEmbedded(`${dir}/data`, ingested, { caller: client, audit, maxInFlight: LIMITS.maxInFlight })).meta;
    }, 120_000);

    it('traces every row as the ground truth says', () => {
      expect(meta.state).toBe('assembled');
      expectResultsMatchGroundTruth(meta.outputs!.results, cohort.expectedPath);
    });

    it('lists in audit.csv every exchange and rejected row the central audit store holds for the batch, the interrupted attempt\'s too', async () => {
      const stored = (await audit.search({ batchId: meta.id })).filter((e) => e.kind === 'smsp_exchange' || e.kind === 'row_rejected');
      const lines = keyed(await readFile(meta.outputs!.audit, 'utf8'));
      // The interruption really left exchanges that no results file holds.
      const inResults = new Set<string>();
      for (const chunk of meta.chunks!) {
        const text = await readFile(batchPaths(`${dir}/data`, meta.id).chunkResults(chunk.index), 'utf8');
        for (const line of text.split('\n').filter(Boolean)) for (const e of (JSON.parse(line) as { exchanges: Array<{ messageId: string }> }).exchanges) inResults.add(e.messageId);
      }
      const exchanges = stored.filter((e) => e.kind === 'smsp_exchange');
      expect(requestsBeforeInterruption).toBeGreaterThan(0);
      expect(exchanges.filter((e) => !inResults.has(e.messageId!)).length).toBeGreaterThan(0);
      expect(exchanges).toHaveLength(simulator.metrics().requestsTotal);

      expect(lines).toHaveLength(stored.length);
      const key = (row: string | number | undefined, messageId: string | undefined, outcome: string | undefined) => `${row}|${messageId ?? ''}|${outcome}`;
      expect(lines.map((l) => key(l.row_number, l.message_id || undefined, l.status)).sort()).toEqual(stored.map((e) => key(e.row, e.messageId, e.outcome)).sort());
      // The summary counts the same requests: the interrupted attempt's are not left out of it either.
      const summary = JSON.parse(await readFile(meta.outputs!.summaryJson, 'utf8')) as BatchSummary;
      expect(summary.timings.exchanges).toBe(exchanges.length);
      // In row order, so a reader can follow each row's attempts.
      const rows = lines.map((l) => Number(l.row_number));
      expect(rows).toEqual([...rows].sort((a, b) => a - b));
    });

    it('writes every CSV output as a plain CSV: the header first, every record as wide, a BOM on each (--bom)', async () => {
      const outputs = meta.outputs!;
      const expected: Array<[string, readonly string[]]> = [
        [outputs.results, TRACE_COLUMNS],
        [outputs.audit, AUDIT_COLUMNS],
        [outputs.backOffice, [...BACK_OFFICE_COLUMNS, PROTECTIVE_MARKING_COLUMN]],
        [outputs.discrepancies, [...DISCREPANCY_REPORT_COLUMNS, PROTECTIVE_MARKING_COLUMN]],
      ];
      const csvFiles = (await readdir(`${dir}/out`)).filter((n) => n.startsWith('interrupted.') && n.endsWith('.csv'));
      expect(csvFiles.sort()).toEqual(expected.map(([file]) => file.slice(`${dir}/out/`.length)).sort());
      for (const [file, columns] of expected) {
        const { bom, header, records } = await readStrict(file);
        expect(bom, file).toBe(true);
        // The results keep the input's columns first; the others are exactly the layout's.
        if (file === outputs.results) {
          expect(header.length).toBeGreaterThan(columns.length);
          expect(header.slice(-columns.length)).toEqual([...columns]);
        } else {
          expect(header).toEqual([...columns]);
        }
        for (const record of records) expect(record).toHaveLength(header.length);
      }
      expect((await readStrict(outputs.results)).records).toHaveLength(ROWS);
    });

    it('records provenance and labelled rates in the summary', async () => {
      const summary = JSON.parse(await readFile(meta.outputs!.summaryJson, 'utf8')) as BatchSummary;
      expect(summary.provenance).toEqual({
        provider: describeProvider(smspProvider(simulator.url)),
        simulated: false,
        pdsTraceVersion: PDS_TRACE_VERSION,
        options: { format: 'native', minimal: false, fallbacks: [], dayFirst: true, bom: true },
      });
      expect(summary.rates.foundOfAllRows.outOf).toBe(ROWS);
      expect(summary.rates.foundOfAllRows.description).toMatch(/every row in the file/);
      expect(summary.startedAtLocal).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} \S+$/);
    });
  });

  it('writes --format mesh as the layout: the control line with the record count, then every record 29 fields wide', async () => {
    const cohort = await writeCohort({ ...POPULATION, rows: 40, outDir: dir, name: 'mesh' });
    const created = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out-mesh`, { chunkSize: 20, format: 'mesh' }), smspProvider(simulator.url));
    const { meta } = await runBatchEmbedded(`${dir}/data`, created, { caller: client, audit, maxInFlight: LIMITS.maxInFlight });
    const text = await readFile(meta.outputs!.results, 'utf8');
    const [control] = parse(text, { to_line: 1 }) as string[][];
    expect(control).toEqual([expect.stringMatching(/^MPTREQ_\d{14}$/), 'SPINE_MPT_RESPONSE', '40', '00']);
    const records = parse(text, { from_line: 2, relax_column_count: false }) as string[][];
    expect(records).toHaveLength(40);
    for (const record of records) expect(record).toHaveLength(MESH_RESPONSE_COLUMNS.length);
    const dob = MESH_RESPONSE_COLUMNS.indexOf('DATE_OF_BIRTH');
    const postcode = MESH_RESPONSE_COLUMNS.indexOf('POSTCODE');
    for (const record of records) {
      expect(record[dob]).toMatch(/^(\d{4}(\d{2}(\d{2})?)?)?$/);
      expect(record[postcode]).toMatch(/^([A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}|[A-Z0-9 ]+\*)?$/);
    }
    // The other CSVs of a MESH batch are plain CSVs, header first.
    for (const [file, columns] of [[meta.outputs!.audit, AUDIT_COLUMNS], [meta.outputs!.backOffice, [...BACK_OFFICE_COLUMNS, PROTECTIVE_MARKING_COLUMN]]] as const) {
      expect((await readStrict(file)).header).toEqual([...columns]);
    }
  }, 60_000);
});
