import { readFile } from 'node:fs/promises';
import { openCsvSink } from '../../csv/output/csv-sink.js';
import { guardFormula } from '../../csv/output/formula-guard.js';
import { openInput, type InputFile, type InputLayout, type InputOptions, type InputRow } from '../../csv/read-input.js';
import { FIELD_LABELS, FIELD_NAMES, type FieldName } from '../../csv/input/types.js';
import { writeFileAtomic } from '../../csv/output/atomic-file.js';
import type { ReasonCode } from '../../domain/reasons.js';

/**
 * The check before anything is sent (issue 17, step 2): the uploaded file read once, through the
 * same reader, normalisation and validation the pipeline's ingest applies (src/csv/read-input.ts),
 * so what the page says is invalid is exactly what the batch would reject. Nothing here decides
 * validity itself; it counts, and lists every problem by row and column.
 *
 * Memory stays flat in the file's size: counts, and the first PAGE_PROBLEMS problems for the
 * page; every problem goes to a CSV file as it is found (not capped).
 */

/** Problems shown on the page; the download has all of them. */
export const PAGE_PROBLEMS = 100;
/** Rows named on the page as repeating an earlier row's local id; the download has all of them. */
const PAGE_DUPLICATES = 20;

export interface RowIssue {
  /** The row as a spreadsheet numbers it: the file's line, so the header is row 1. */
  row: number;
  /** The column's header, when the problem is one field's. */
  column?: string;
  field?: string;
  reason: ReasonCode | 'duplicate_local_id';
  /** Names the field and its column, never the value (no patient data). */
  message: string;
}

export interface FieldSource {
  field: FieldName;
  label: string;
  /** 0-based column, when the field is taken from one. */
  column?: number;
  header?: string;
}

export interface UploadPreview {
  layout: Pick<InputLayout, 'kind' | 'encoding' | 'delimiter' | 'headers' | 'warnings'>;
  fields: FieldSource[];
  rows: number;
  valid: number;
  invalid: number;
  /** Invalid rows by reason, most frequent first. */
  byReason: Array<{ reason: string; count: number }>;
  /** The first PAGE_PROBLEMS invalid rows. */
  problems: RowIssue[];
  duplicateLocalIds: { count: number; rows: number[] };
  /** SMSP requests the batch makes: one per valid row with the default strategy (no fallbacks). */
  requests: number;
  /** How long those take at SMSP_MAX_RATE, in seconds: a floor, as slow answers add to it. */
  seconds: number;
  ratePerSecond: number;
}

export interface CheckSettings {
  /** SMSP_MAX_RATE. */
  maxRatePerSecond: number;
}

/**
 * Reads the whole file and writes every row problem (and every repeated local id) to
 * `problemsPath`. Throws InputFileError when the file cannot be read as a table of demographics.
 */
export async function checkUpload(file: string, options: Pick<InputOptions, 'mappingFile' | 'dayFirst'>, problemsPath: string, settings: CheckSettings): Promise<UploadPreview> {
  const input = await openInput(file, options);
  const sink = await openCsvSink(problemsPath, { bom: true });
  const tally = new Tally(input.layout);
  try {
    await sink.write(['row', 'column', 'field', 'kind', 'reason', 'message']);
    for await (const row of input.rows) {
      const issue = tally.add(row);
      if (issue) await sink.write([String(issue.row), guardFormula(issue.column ?? ''), issue.field ?? '', issue.reason === 'duplicate_local_id' ? 'warning' : 'invalid', issue.reason, guardFormula(issue.message)]);
    }
    await sink.close();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  return tally.preview(input, settings);
}

export async function savePreview(previewPath: string, preview: UploadPreview): Promise<void> {
  await writeFileAtomic(previewPath, `${JSON.stringify(preview)}\n`);
}

export async function readPreview(previewPath: string): Promise<UploadPreview | undefined> {
  try {
    return JSON.parse(await readFile(previewPath, 'utf8')) as UploadPreview;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

class Tally {
  rows = 0;
  invalid = 0;
  readonly byReason = new Map<string, number>();
  readonly problems: RowIssue[] = [];
  readonly duplicates = { count: 0, rows: [] as number[] };

  constructor(private readonly layout: InputLayout) {}

  /** Counts the row; returns its problem, or its repeated local id, for the download. */
  add(row: InputRow): RowIssue | undefined {
    this.rows++;
    if (row.problem) {
      this.invalid++;
      this.byReason.set(row.problem.reason, (this.byReason.get(row.problem.reason) ?? 0) + 1);
      const issue: RowIssue = { row: row.line, reason: row.problem.reason, message: row.problem.message, ...this.where(row.problem.field) };
      if (this.problems.length < PAGE_PROBLEMS) this.problems.push(issue);
      return issue;
    }
    if (row.flags.includes('duplicate_local_id')) {
      this.duplicates.count++;
      if (this.duplicates.rows.length < PAGE_DUPLICATES) this.duplicates.rows.push(row.line);
      const where = this.where('localId');
      return { row: row.line, reason: 'duplicate_local_id', message: `local id${where.column ? ` (column "${where.column}")` : ''}: an earlier row has the same local id`, ...where };
    }
    return undefined;
  }

  private where(field: FieldName | undefined): Pick<RowIssue, 'column' | 'field'> {
    if (!field) return {};
    const column = this.layout.fields[field];
    return { field, ...(column === undefined ? {} : { column: this.layout.headers[column] ?? `column ${column + 1}` }) };
  }

  preview(input: InputFile, settings: CheckSettings): UploadPreview {
    const { layout } = input;
    const valid = this.rows - this.invalid;
    return {
      layout: { kind: layout.kind, encoding: layout.encoding, delimiter: layout.delimiter, headers: layout.headers, warnings: layout.warnings },
      fields: FIELD_NAMES.map((field) => {
        const column = layout.fields[field];
        return { field, label: FIELD_LABELS[field], ...(column === undefined ? {} : { column, header: layout.headers[column] ?? `column ${column + 1}` }) };
      }),
      rows: this.rows,
      valid,
      invalid: this.invalid,
      byReason: [...this.byReason].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
      problems: this.problems,
      duplicateLocalIds: this.duplicates,
      requests: valid,
      seconds: Math.ceil(valid / settings.maxRatePerSecond),
      ratePerSecond: settings.maxRatePerSecond,
    };
  }
}
