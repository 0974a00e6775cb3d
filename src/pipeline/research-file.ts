import path from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { stringify } from 'csv-stringify';
import { CSV_DIALECT } from '../csv/output/csv-sink.js';
import { guardFormula } from '../csv/output/formula-guard.js';
import { openInput, type InputRow } from '../csv/read-input.js';
import { STATUSES_WITH_NHS_NUMBER } from '../domain/outcome.js';
import type { RowResult } from '../domain/row-result.js';
import { cellAt } from '../quality/local-record.js';
import { rowsWithResults } from './assemble.js';
import { verifiedBatchInput, type BatchMeta } from './batch.js';
import { inputOptionsFor } from './ingest.js';

/**
 * A finished batch's research file: the linkage a researcher needs and nothing more
 * (data minimisation, peers-and-governance.md §4.2). One line per input row, in input order: its
 * row number, the local id the file gave it, its trace status, and the NHS number only where the
 * status carries one PDS stands behind (verified, matched, or the replacement of a superseded
 * number). No names, dates of birth, addresses or postcodes, and nothing else PDS returned.
 *
 * Made from the batch's input copy and row results, paired by assemble's own pairing (every row
 * once, each result checked against its row), so it says what the results file says, row for row,
 * whichever layout the results were written in. It is streamed, never held or kept: the work files
 * it is made from are what retention removes, and then there is none.
 */

export const RESEARCH_COLUMNS = ['row_number', 'local_id', 'trace_status', 'nhs_number'] as const;

/** The NHS number a researcher may link on: PDS's, and only for a status that carries one. */
export function trustedNhsNumber(result: RowResult): string {
  if (!STATUSES_WITH_NHS_NUMBER.has(result.status)) return '';
  return result.nhsNumber ?? result.patient?.nhsNumber ?? '';
}

export function researchRecord(row: Pick<InputRow, 'rowNumber' | 'cells'>, localIdColumn: number | undefined, result: RowResult): string[] {
  // The local id was typed by a person and the number came from the provider: both guarded, as in the results.
  return [String(row.rowNumber), guardFormula(cellAt(row, localIdColumn) ?? ''), result.status, guardFormula(trustedNhsNumber(result))];
}

/** `<name>[.SIMULATED].research.csv`, beside the results' name. */
export function researchFileName(meta: Pick<BatchMeta, 'name' | 'outputs'>): string {
  const results = meta.outputs ? path.basename(meta.outputs.results) : `${meta.name}.results.csv`;
  return results.replace(/\.results\.csv$/, '.research.csv');
}

/**
 * The research CSV of an assembled batch as a stream. The input copy is checked first (a changed
 * or missing copy throws here, before a byte is sent); a row and result that do not pair up later
 * end the stream with that error, so a reader never gets a short file that looks whole.
 */
export async function researchCsv(dataDir: string, meta: BatchMeta): Promise<Readable> {
  const file = await verifiedBatchInput(dataDir, meta);
  const input = await openInput(file, { ...inputOptionsFor(meta), flagDuplicateLocalIds: false });
  const localIdColumn = input.layout.fields.localId;
  async function* records(): AsyncGenerator<string[]> {
    yield [...RESEARCH_COLUMNS];
    for await (const { row, result } of rowsWithResults(input, dataDir, meta)) yield researchRecord(row, localIdColumn, result);
  }
  const csv = stringify({ ...CSV_DIALECT, bom: meta.options.bom });
  // pipeline destroys `csv` with the error, which the HTTP response then aborts.
  pipeline(Readable.from(records()), csv, () => undefined);
  return csv;
}
