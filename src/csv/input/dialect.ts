/**
 * How a file separates cells and records. Excel writes semicolons where the locale uses a decimal
 * comma, and "Text (tab delimited)" from most PAS report tools; none says which. Records end with
 * CRLF, LF or (classic Mac) CR.
 */
import type { Delimiter } from './types.js';

export type RecordDelimiter = '\r\n' | '\n' | '\r';

export interface Dialect {
  delimiter: Delimiter;
  /** The line breaks that end a record; any other line break is part of a cell. */
  recordDelimiters: RecordDelimiter[];
}

const CANDIDATES: readonly Delimiter[] = [',', '\t', ';'];
const ALL_BREAKS: RecordDelimiter[] = ['\r\n', '\n', '\r'];
const SAMPLE_RECORDS = 50;

/**
 * `sample` is the start of the file; `complete` says whether it is the whole file (if not, its
 * last record may be cut short and is ignored).
 */
export function detectDialect(sample: string, complete: boolean): Dialect {
  const delimiter = detectDelimiter(sample, complete);
  return { delimiter, recordDelimiters: detectRecordDelimiters(sample, complete, delimiter) };
}

/**
 * The candidate that splits the first record (the header, usually), then the one that splits the
 * largest share of sample records, then the one whose cell count is most consistent, then the one
 * giving more cells; comma when nothing splits anything (a one-column file). Each candidate is
 * scanned quote-aware with its own cell boundaries, so a comma inside a quoted address or a quote
 * inside an unquoted name does not count. Shares, not counts: a wrong candidate misreads quotes
 * and so sees more, shorter records.
 */
function detectDelimiter(sample: string, complete: boolean): Delimiter {
  let best: { delimiter: Delimiter; score: readonly number[] } | null = null;
  for (const delimiter of CANDIDATES) {
    const { counts } = scan(sample, complete, delimiter, 'any');
    const separated = counts.filter((n) => n > 1).length;
    if (separated === 0) continue;
    const { mode, frequency } = modeOf(counts);
    const score = [counts[0]! > 1 ? 1 : 0, separated / counts.length, frequency / counts.length, mode];
    if (!best || isBetter(score, best.score)) best = { delimiter, score };
  }
  return best?.delimiter ?? ',';
}

/**
 * The first line break outside quotes ends records, as csv-parse and Python's csv sniffer assume;
 * other breaks are then part of a cell (csv-stringify, for one, quotes a cell only for the record
 * delimiter itself). The exception is a file whose line endings are mixed (concatenated exports):
 * when splitting on every kind of break gives each sample line exactly the header's width, all
 * kinds end records. Breaks inside cells cannot pass that test, provided a blank line only counts
 * as a line break when it ends the same way as the line before it: m breaks inside a record of
 * width W ≥ 2 make m + 1 pieces holding W + m cells, and the first and last piece cannot be such
 * blank lines, so the pieces cannot all be W wide or blank. One more ambiguity: after LF or CR
 * records, a CRLF may be a cell ending in CR (or starting with LF) next to the record delimiter,
 * so those files keep their first kind; their CRLF lines still split, leaving a stray CR or LF
 * at the edge of a cell that normalisation trims.
 */
function detectRecordDelimiters(sample: string, complete: boolean, delimiter: Delimiter): RecordDelimiter[] {
  const { lines, kinds } = scan(sample, complete, delimiter, 'any');
  const first = kinds[0];
  if (first === undefined) return ALL_BREAKS;
  if (kinds.length === 1 || (first !== '\r\n' && kinds.includes('\r\n'))) return [first];
  const width = scan(sample, complete, delimiter, first).counts[0] ?? 0;
  const fullWidth = lines.every((line, i) => (line.blank ? i > 0 && line.ending === lines[i - 1]!.ending : line.cells === width));
  return width >= 2 && fullWidth ? ALL_BREAKS : [first];
}

function isBetter(score: readonly number[], than: readonly number[]): boolean {
  for (let i = 0; i < score.length; i++) {
    if (score[i]! !== than[i]!) return score[i]! > than[i]!;
  }
  return false;
}

interface ScannedLine {
  cells: number;
  blank: boolean;
  /** The break that ended it; null for a last line with none. */
  ending: RecordDelimiter | null;
}

/**
 * The first records of the sample as split by `breaks`, reading quotes as csv-parse does with
 * relax_quotes (a quote opens a quoted cell only at the cell's start): cells per non-blank record,
 * every line including blank ones, and the kinds of line break found, in order of appearance.
 */
function scan(text: string, complete: boolean, delimiter: Delimiter, breaks: 'any' | RecordDelimiter): { counts: number[]; lines: ScannedLine[]; kinds: RecordDelimiter[] } {
  const lines: ScannedLine[] = [];
  const kinds: RecordDelimiter[] = [];
  let cells = 1;
  let atFieldStart = true;
  let inQuotes = false;
  let blank = true;
  let records = 0;
  for (let i = 0; i < text.length && records < SAMPLE_RECORDS; i++) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') i++;
        else inQuotes = false;
      }
      continue;
    }
    const lineBreak = ch === '\r' ? (text[i + 1] === '\n' ? '\r\n' : '\r') : ch === '\n' ? '\n' : null;
    if (lineBreak && (breaks === 'any' || breaks === lineBreak)) {
      if (lineBreak === '\r\n') i++;
      if (!kinds.includes(lineBreak)) kinds.push(lineBreak);
      lines.push({ cells, blank, ending: lineBreak });
      if (!blank) records++;
      cells = 1;
      atFieldStart = true;
      blank = true;
      continue;
    }
    blank = false;
    if (ch === delimiter) {
      cells++;
      atFieldStart = true;
      continue;
    }
    if (ch === '"' && atFieldStart) inQuotes = true;
    atFieldStart = false;
  }
  if (!blank && complete && records < SAMPLE_RECORDS) lines.push({ cells, blank, ending: null });
  return { counts: lines.filter((l) => !l.blank).map((l) => l.cells), lines, kinds };
}

function modeOf(values: number[]): { mode: number; frequency: number } {
  const tally = new Map<number, number>();
  for (const v of values) tally.set(v, (tally.get(v) ?? 0) + 1);
  let mode = 0;
  let frequency = 0;
  for (const [value, count] of tally) {
    if (count > frequency || (count === frequency && value > mode)) {
      mode = value;
      frequency = count;
    }
  }
  return { mode, frequency };
}
