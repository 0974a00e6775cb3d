import path from 'node:path';
import type { ChainHead } from '../audit/hash-chain.js';
import type { RowResult } from '../domain/row-result.js';
import { openInput, type InputFile, type InputOptions, type InputRow } from '../csv/read-input.js';
import { createAuditCsvWriter, type AuditRow } from '../csv/output/audit-writer.js';
import type { CsvOptions } from '../csv/output/csv-sink.js';
import { PDS_TRACE_VERSION, type Provenance } from '../csv/output/provenance.js';
import { prepareOutputFolder } from '../csv/output/output-folder.js';
import { createResultsWriter } from '../csv/output/results-writer.js';
import { SummaryBuilder, writeSummaryHtml, writeSummaryJson, type BatchSummary } from '../csv/output/summary.js';
import { openBackOfficeReport } from '../quality/back-office-report.js';
import { openDiscrepancyReport } from '../quality/discrepancy-report.js';
import { NhsNumberIndex, rowNhsNumbers } from '../quality/duplicates.js';
import { localColumns, localIdentity } from '../quality/local-record.js';
import { assessRow, type QualityContext } from '../quality/row-quality.js';
import { batchPaths, saveBatch, verifiedBatchInput, type BatchMeta, type BatchOutputs } from './batch.js';
import { InputChangedError } from './input-changed-error.js';
import { inputOptionsFor } from './ingest.js';
import { claimOutputs } from './output-ownership.js';
import { readJsonLines } from './jsonl.js';
import { batchOutputPaths } from './output-paths.js';
import { chunkAuditRows } from './exchange-journal.js';
import { describeProvider, isSimulated } from './provider.js';
import { FALLBACKS } from './strategy.js';
import { rowDigest } from './row-digest.js';

/** An input row with no result, or a result for no row: assembling would lose or invent a row. */
export class AssemblyError extends Error {
  override readonly name = 'AssemblyError';
}

/** Results of every row in row order: the rejected rows and the chunk results merged. */
function resultsInRowOrder(dataDir: string, meta: BatchMeta): AsyncGenerator<RowResult> {
  const paths = batchPaths(dataDir, meta.id);
  async function* chunkResults() {
    for (const chunk of meta.chunks ?? []) yield* readJsonLines<RowResult>(paths.chunkResults(chunk.index));
  }
  return mergedInRowOrder(readJsonLines<RowResult>(paths.rejected), chunkResults());
}

/**
 * The batch's audit CSV rows in row order: the rejected rows, and every attempt's exchanges of
 * each chunk (exchange-journal.ts), interrupted attempts included, as the audit store holds them.
 */
function auditRowsInRowOrder(dataDir: string, meta: BatchMeta): AsyncGenerator<AuditRow> {
  async function* chunkRows() {
    for (const chunk of meta.chunks ?? []) yield* await chunkAuditRows(dataDir, meta, chunk.index);
  }
  return mergedInRowOrder<AuditRow>(readJsonLines<RowResult>(batchPaths(dataDir, meta.id).rejected), chunkRows());
}

/** Two streams, each in row order, merged into one; on a tie the first stream's row comes first. */
async function* mergedInRowOrder<T extends { rowNumber: number }>(rejected: AsyncGenerator<T>, traced: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    let r = await rejected.next();
    let t = await traced.next();
    while (!r.done || !t.done) {
      if (t.done || (!r.done && r.value.rowNumber <= t.value.rowNumber)) {
        yield r.value as T;
        r = await rejected.next();
      } else {
        yield t.value;
        t = await traced.next();
      }
    }
  } finally {
    await rejected.return(undefined);
    await traced.return(undefined);
  }
}

export interface AssembleOptions {
  startedAt: Date;
  now?: () => Date;
  /** The audit chain's head after the batch's events (AuditStore.currentHead): the summary keeps it as a witness. */
  auditHead?: () => Promise<ChainHead>;
}

/**
 * Each input row with its result, in input order. An input row with no result, or a result with
 * no input row, is an AssemblyError: assembling would lose or invent a row. A result whose row
 * digest is not the row's is an InputChangedError: it was traced for another row.
 */
export async function* rowsWithResults(input: InputFile, dataDir: string, meta: BatchMeta): AsyncGenerator<{ row: InputRow; result: RowResult }> {
  const ordered = resultsInRowOrder(dataDir, meta);
  try {
    for await (const row of input.rows) {
      const next = await ordered.next();
      if (next.done || next.value.rowNumber !== row.rowNumber) {
        throw new AssemblyError(`batch ${meta.id}: no result for row ${row.rowNumber} (found ${next.done ? 'none' : `row ${next.value.rowNumber}`})`);
      }
      // Every result of a batch with digests must carry its row's: a missing one matches nothing.
      if (meta.rowDigests && next.value.rowDigest !== rowDigest(row.cells)) throw new InputChangedError(meta.id, row.rowNumber);
      yield { row, result: next.value };
    }
    const extra = await ordered.next();
    if (!extra.done) throw new AssemblyError(`batch ${meta.id}: a result for row ${extra.value.rowNumber} has no input row`);
  } finally {
    // Closes the result files when a pass stops early.
    await ordered.return(undefined);
  }
}

/**
 * The input for the second pass, each row flagged as the reader flags it. Repeated local ids come
 * from the list ingest wrote, read in step with the rows, rather than from a table of every id
 * held beside the NHS number index; a batch ingested before that list existed is checked here.
 */
async function openFlaggedInput(dataDir: string, meta: BatchMeta, options: InputOptions): Promise<InputFile> {
  const file = await verifiedBatchInput(dataDir, meta);
  if (meta.localIdRepeats === undefined) return openInput(file, { ...options, expectedRows: meta.rows });
  const input = await openInput(file, { ...options, flagDuplicateLocalIds: false });
  const repeatsFile = batchPaths(dataDir, meta.id).localIdRepeats;
  return { layout: input.layout, rows: { [Symbol.asyncIterator]: () => withLocalIdRepeats(input.rows, repeatsFile) } };
}

async function* withLocalIdRepeats(rows: AsyncIterable<InputRow>, repeatsFile: string): AsyncGenerator<InputRow> {
  const repeats = readJsonLines<number>(repeatsFile);
  try {
    let next = await repeats.next();
    for await (const row of rows) {
      if (!next.done && next.value === row.rowNumber) {
        // Last, where the reader puts it (build-row.ts).
        row.flags.push('duplicate_local_id');
        next = await repeats.next();
      }
      yield row;
    }
  } finally {
    await repeats.return(undefined);
  }
}

/**
 * First pass: every NHS number each row supplied or got back, so the second pass can tell which
 * rows share one (MSCA-DQ-01, MSCA-DQ-03). It also proves rows and results line up before any
 * output file is opened.
 */
async function indexNhsNumbers(input: InputFile, dataDir: string, meta: BatchMeta): Promise<NhsNumberIndex> {
  // About one number per row: most rows supply or get back one, a superseded row two, a rejected one none.
  const index = new NhsNumberIndex(meta.rows);
  for await (const { row, result } of rowsWithResults(input, dataDir, meta)) index.add(row.rowNumber, rowNhsNumbers(row.query, result));
  index.seal();
  return index;
}

/**
 * Writes the batch's outputs: every input row once, in input order, with its result and its
 * data-quality findings; the audit CSV; the back-office and discrepancy reports; the summary as
 * JSON and HTML. Each file appears complete or not at all.
 *
 * Two passes over the input and the results: the first indexes NHS numbers (memory: a few bytes
 * per number, no rows), the second writes. Both stream, so memory stays flat in the file's size.
 *
 * Each pass first checks the input copy still holds the bytes submitted, and every row's digest is
 * checked against its result's: on any difference (InputChangedError) no output appears, and a
 * batch not yet assembled is left `rejected` (input_changed) so that it stops, for every runner
 * and every process following it, instead of being tried again.
 */
export async function assembleBatch(dataDir: string, meta: BatchMeta, options: AssembleOptions): Promise<{ meta: BatchMeta; summary: BatchSummary }> {
  try {
    return await writeOutputs(dataDir, meta, options);
  } catch (err) {
    if (err instanceof InputChangedError && meta.state !== 'assembled') {
      const finishedAt = (options.now ?? (() => new Date()))().toISOString();
      await saveBatch(batchPaths(dataDir, meta.id), { ...meta, state: 'rejected', rejection: { reason: err.reason, message: err.message }, finishedAt });
    }
    throw err;
  }
}

async function writeOutputs(dataDir: string, meta: BatchMeta, options: AssembleOptions): Promise<{ meta: BatchMeta; summary: BatchSummary }> {
  const now = options.now ?? (() => new Date());
  const outDir = meta.options.outDir;
  const outputs: BatchOutputs = batchOutputPaths(meta);
  // One "today" for both passes, so that they read every row alike.
  const inputOptions = { ...inputOptionsFor(meta), today: new Date() };
  // The first pass reads no flags: it leaves the repeated-local-id check to the second.
  const index = await indexNhsNumbers(await openInput(await verifiedBatchInput(dataDir, meta), { ...inputOptions, flagDuplicateLocalIds: false }), dataDir, meta);
  const input = await openFlaggedInput(dataDir, meta, inputOptions);
  // Not before: a refused batch leaves nothing behind in the output folder, not even the folder.
  await prepareOutputFolder(outDir);
  await claimOutputs(dataDir, meta, outputs);
  const quality: QualityContext = {
    index,
    columns: localColumns(input.layout),
    dates: { dayFirst: meta.options.dayFirst, today: now() },
  };

  const files: Array<{ close(): Promise<void>; abort(): Promise<void> }> = [];
  const open = async <T extends { close(): Promise<void>; abort(): Promise<void> }>(opening: Promise<T>): Promise<T> => {
    const file = await opening;
    files.push(file);
    return file;
  };
  const fallbacks = Object.fromEntries(meta.options.fallbacks.map((f) => [f, FALLBACKS[f] ?? f]));
  const summary = new SummaryBuilder({ batchId: meta.id, inputFile: path.basename(meta.inputPath), user: meta.options.user, startedAt: options.startedAt, fallbacks, exchangesFromAuditRows: true });
  // One set of CSV options for every CSV the batch writes.
  const csv: CsvOptions = { bom: meta.options.bom };

  try {
    const results = await open(createResultsWriter(outputs.results, { ...csv, inputHeaders: input.layout.headers, format: meta.options.format, dates: quality.dates }));
    const audit = await open(createAuditCsvWriter(outputs.audit, { batchId: meta.id, user: meta.options.user }, csv));
    const backOffice = await open(openBackOfficeReport(outputs.backOffice, csv));
    const discrepancies = await open(openDiscrepancyReport(outputs.discrepancies, csv));
    for await (const { row, result } of rowsWithResults(input, dataDir, meta)) {
      const findings = assessRow(row, result, quality);
      await results.write({ cells: row.cells, query: row.query, result, flags: findings.flags, discrepancies: findings.discrepancies });
      const report = { rowNumber: row.rowNumber, identity: localIdentity(row, quality.columns), suppliedNhsNumber: row.query?.nhsNumber, result, quality: findings };
      await backOffice.write(report);
      await discrepancies.write(report);
      summary.add(result, findings);
    }
    for await (const row of auditRowsInRowOrder(dataDir, meta)) {
      await audit.write(row);
      summary.addAuditRow(row);
    }
    for (const file of files) await file.close();
  } catch (err) {
    for (const file of files) await file.abort();
    throw err;
  }

  const finishedAt = now();
  // Which provider answered and how the batch was asked, so the summary can never pass simulated
  // answers off as PDS's, nor hide an option that changed the outcomes.
  const provenance: Provenance = {
    provider: describeProvider(meta.provider),
    simulated: isSimulated(meta.provider),
    pdsTraceVersion: PDS_TRACE_VERSION,
    options: {
      format: meta.options.format,
      minimal: meta.options.minimal,
      fallbacks: meta.options.fallbacks,
      ...(meta.options.mappingFile && { mappingFile: path.basename(meta.options.mappingFile) }),
      dayFirst: meta.options.dayFirst,
      bom: meta.options.bom,
    },
  };
  const built = summary.finish({
    finishedAt,
    simulated: provenance.simulated,
    provider: provenance.provider,
    provenance,
    ...(options.auditHead && { auditHead: await options.auditHead() }),
  });
  await writeSummaryJson(outputs.summaryJson, built);
  await writeSummaryHtml(outputs.summaryHtml, built);
  const assembled: BatchMeta = { ...meta, state: 'assembled', outputs, finishedAt: finishedAt.toISOString() };
  await saveBatch(batchPaths(dataDir, meta.id), assembled);
  return { meta: assembled, summary: built };
}
