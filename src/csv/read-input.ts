/**
 * The CSV input entry point: `openInput` works out a file's encoding, delimiter and layout, then
 * streams its rows, each normalised and validated, one InputRow per physical record in input
 * order (ARCHITECTURE.md property 1). Memory stays flat in the file's size: nothing holds more
 * than a chunk and one record, plus up to 16 bytes per local id for duplicate detection (off with
 * `flagDuplicateLocalIds: false`).
 *
 * Wholly blank lines, and rows whose cells are all empty (Excel's trailing `,,,,`), are not rows:
 * they hold nothing to trace or echo. Every other record, however broken, is a row.
 */
import { detectEncoding, encodingFromHead, readTextSample, utf8Chunks, type DetectedEncoding } from './input/encoding.js';
import { detectDialect } from './input/dialect.js';
import { buildRow } from './input/build-row.js';
import { LAYOUT_RECORDS, planLayout, type LayoutPlan } from './input/layout-plan.js';
import { LocalIdSet } from './input/local-id-set.js';
import { readMappingFile } from './input/mapping-file.js';
import { recordCountWarning } from './input/mesh-layout.js';
import { readRecords, type RawRecord, type RecordReaderOptions } from './input/record-reader.js';
import type { InputFile, InputLayout, InputOptions, InputRow } from './input/types.js';
import type { RowContext } from './input/validate-row.js';

import { InputFileError } from './input/input-file-error.js';

export { InputFileError };
export type { FieldName, InputFile, InputLayout, InputOptions, InputRow, RowProblem } from './input/types.js';

/**
 * Largest record read as cells. A free-text column (clinical notes, a pasted letter) can hold
 * 100 KB in one cell, and such a row must come back whole; what the limit is for is a quote never
 * closed, which would otherwise swallow the rest of the file into one record. 8 MiB bounds that
 * (memory is one record plus a chunk, never the file), and re-reading at most 8 MiB after each
 * such quote keeps a badly quoted file slow rather than stuck.
 */
export const DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;
/**
 * Enough text to see the delimiter on the first dozens of records. Not tied to the record limit:
 * a huge cell in the sample only cuts the sample's last record, which the sniffer ignores.
 */
const DIALECT_SAMPLE_BYTES = 64 * 1024;

export async function openInput(file: string, options: InputOptions = {}): Promise<InputFile> {
  const mapping = options.mappingFile ? await readMappingFile(options.mappingFile) : undefined;
  const encoding = await detectEncoding(file);
  const sample = await readTextSample(file, encoding, DIALECT_SAMPLE_BYTES);
  const reader: RecordReaderOptions = {
    ...detectDialect(sample.text, sample.complete),
    maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
  };
  const plan = planLayout(await firstRecords(file, encoding, reader), mapping);
  const layout: InputLayout = {
    kind: plan.kind,
    encoding: encoding.encoding,
    bom: encoding.bom,
    delimiter: reader.delimiter,
    headers: plan.headers,
    fields: plan.fields,
    warnings: plan.warnings,
  };
  const ctx: RowContext = { fields: plan.fields, headers: plan.headers, dayFirst: options.dayFirst ?? true, today: options.today ?? new Date() };
  return {
    layout,
    rows: { [Symbol.asyncIterator]: () => readRows(file, encoding, reader, plan, layout, ctx, options.flagDuplicateLocalIds ?? true, options.expectedRows) },
  };
}

/**
 * Rejects a file with no data rows (InputFileError `no_rows`, the rule in layout-plan.ts) from its
 * first records alone, without openInput's whole-file encoding scan: cheap enough to run before a
 * batch is created, so nothing is submitted for an empty file. Any other finding about the layout
 * is left to openInput, which reads the file in its real encoding.
 */
export async function assertHasRows(file: string, options: Pick<InputOptions, 'mappingFile' | 'maxRecordBytes'> = {}): Promise<void> {
  const encoding = (await encodingFromHead(file)) ?? { encoding: 'utf-8', bom: false };
  const sample = await readTextSample(file, encoding, DIALECT_SAMPLE_BYTES);
  const reader: RecordReaderOptions = { ...detectDialect(sample.text, sample.complete), maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES };
  try {
    const mapping = options.mappingFile ? await readMappingFile(options.mappingFile) : undefined;
    planLayout(await firstRecords(file, encoding, reader), mapping);
  } catch (err) {
    if (err instanceof InputFileError && err.reason === 'no_rows') throw err;
  }
}

async function firstRecords(file: string, encoding: DetectedEncoding, reader: RecordReaderOptions): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  for await (const record of readRecords(utf8Chunks(file, encoding), reader)) {
    records.push(record);
    if (records.length === LAYOUT_RECORDS) break;
  }
  return records;
}

async function* readRows(
  file: string,
  encoding: DetectedEncoding,
  reader: RecordReaderOptions,
  plan: LayoutPlan,
  layout: InputLayout,
  ctx: RowContext,
  flagDuplicateLocalIds: boolean,
  expectedRows: number | undefined,
): AsyncGenerator<InputRow> {
  const seenLocalIds = flagDuplicateLocalIds ? new LocalIdSet(expectedRows) : undefined;
  let skipped = 0;
  let rowNumber = 0;
  let invalidUtf8Rows = 0;
  for await (const record of readRecords(utf8Chunks(file, encoding), reader)) {
    if (skipped < plan.headerRecords) {
      skipped++;
      continue;
    }
    rowNumber++;
    if (record.invalidUtf8) invalidUtf8Rows++;
    yield buildRow(record, rowNumber, plan, ctx, seenLocalIds);
  }
  const countWarning = plan.meshControl ? recordCountWarning(plan.meshControl, rowNumber) : null;
  for (const warning of [countWarning, invalidUtf8Warning(invalidUtf8Rows)]) {
    if (warning && !layout.warnings.includes(warning)) layout.warnings.push(warning);
  }
}

function invalidUtf8Warning(rows: number): string | null {
  if (rows === 0) return null;
  return `${rows} ${rows === 1 ? 'row' : 'rows'} had bytes that are not UTF-8 (invalid_encoding); the rest of the file was read as UTF-8`;
}
