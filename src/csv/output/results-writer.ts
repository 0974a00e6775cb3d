import type { PatientQuery } from '../../domain/demographics.js';
import type { DateOptions } from '../input/normalise/date.js';
import type { RowResult } from '../../domain/row-result.js';
import type { Discrepancy } from '../../domain/findings.js';
import { openCsvSink, type CsvOptions, type CsvSink } from './csv-sink.js';
import { guardFormula } from './formula-guard.js';
import { MeshRecordBuilder, MESH_RESPONSE_COLUMNS } from './mesh-layout.js';
import { openMeshResultsFile } from './mesh-results-file.js';
import { TRACE_COLUMNS, traceCells } from './native-layout.js';

/** One input row with its final result, as the assembler hands it over. */
export interface ResultRow {
  /** The row's original cells, decoded and untouched. */
  cells: string[];
  query?: PatientQuery;
  result: RowResult;
  /** Data-quality flags of the row (src/domain/dq-flags.ts and the CSV reader's), native layout only. */
  flags?: string[];
  /** Where the local details differ from PDS (src/quality/discrepancies.ts, vocabulary in src/domain/findings.ts), native layout only. */
  discrepancies?: Discrepancy[];
}

export interface ResultsWriterOptions extends CsvOptions {
  /** The input's header cells (for a header-less MESH input, descriptive names of its columns). */
  inputHeaders: string[];
  /** `native`: input columns + trace_* columns. `mesh`: the PDS MESH response layout. */
  format: 'native' | 'mesh';
  /** MESH only: the request reference to answer in the control line (default `MPTREQ_<now>`). */
  meshReference?: string;
  /** MESH only: how the file's dates are read, to echo them in the layout's form (default day first, today). */
  dates?: DateOptions;
}

export interface ResultsWriter {
  write(row: ResultRow): Promise<void>;
  /** Completes the file: it appears under its final name, owner-only. */
  close(): Promise<void>;
  /** Discards the file: nothing appears under the final name. */
  abort(): Promise<void>;
}

/** The CSV options among the writer's, whole, so an option added to CsvOptions reaches the file. */
function csvOptionsOf(options: ResultsWriterOptions): CsvOptions {
  const { inputHeaders: _headers, format: _format, meshReference: _reference, dates: _dates, ...csv } = options;
  return csv;
}

/**
 * The input's cells at the header's width. A ragged row (reported as such in its status) is
 * padded or cut so the trace_* columns stay under their headers for every reader; the file it came
 * from still has the full row.
 */
function atHeaderWidth(cells: readonly string[], width: number): string[] {
  return Array.from({ length: width }, (_, i) => cells[i] ?? '');
}

async function openNativeResults(path: string, options: ResultsWriterOptions): Promise<ResultsWriter> {
  const sink = await openCsvSink(path, csvOptionsOf(options));
  const width = options.inputHeaders.length;
  try {
    // Header cells were typed by a person too.
    await sink.write([...options.inputHeaders.map(guardFormula), ...TRACE_COLUMNS]);
  } catch (err) {
    await sink.abort();
    throw err;
  }
  return {
    write: (row) => sink.write([...atHeaderWidth(row.cells, width).map(guardFormula), ...traceCells(row.result, row)]),
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
}

async function openMeshResults(path: string, options: ResultsWriterOptions): Promise<ResultsWriter> {
  const sink: CsvSink = await openMeshResultsFile(path, { ...csvOptionsOf(options), reference: options.meshReference });
  const builder = new MeshRecordBuilder(options.inputHeaders, options.dates);
  return {
    write: (row) => sink.write(builder.record(row)),
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
}

/**
 * Streams the results file: every row written once, in the order written (the assembler feeds
 * input order), committed atomically on close.
 */
export async function createResultsWriter(path: string, options: ResultsWriterOptions): Promise<ResultsWriter> {
  return options.format === 'mesh' ? openMeshResults(path, options) : openNativeResults(path, options);
}

export { MESH_RESPONSE_COLUMNS, TRACE_COLUMNS };
