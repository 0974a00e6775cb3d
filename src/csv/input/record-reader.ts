/**
 * Physical records of a delimited file, streamed, each with the line it starts on; a record csv-parse
 * cannot read becomes one malformed record and reading resumes on the next line, so a bad quote
 * costs one row rather than the file (every record yields exactly one result, ARCHITECTURE.md
 * property 1).
 *
 * csv-parse options (ecosystem.md §4.1): no `cast` (identifiers stay strings); `relax_column_count`
 * so ragged rows reach the validator; `relax_quotes` so a quote inside an unquoted cell (O"Brien,
 * 5'10") is kept as written; `max_record_size` so an unclosed quote cannot swallow the file;
 * the record delimiters chosen by dialect.ts (all three for files with mixed line endings).
 * Records are collected through `on_record` rather than read from the stream because a stream that
 * errors discards the records it parsed from the same chunk before the error.
 * Lines are counted here, not taken from csv-parse's `info.lines`, which counts a CRLF inside a
 * quoted cell as two lines.
 */
import { CsvError, Parser } from 'csv-parse';
import { ByteWindow } from './byte-window.js';
import type { RecordDelimiter } from './dialect.js';
import type { Delimiter } from './types.js';

export type MalformedKind = 'record_too_large' | 'unclosed_quote' | 'malformed_record';

export interface RawRecord {
  cells: string[];
  /** 1-based physical line where the record starts. */
  line: number;
  /**
   * Set when the record could not be parsed; `cells` then holds its first physical line, raw, as
   * one cell. Its later lines are read again as records of their own, so nothing is lost unless
   * that one line is longer than maxRecordBytes, when only its first maxRecordBytes are kept.
   */
  malformed?: MalformedKind;
  /** The first line was longer than maxRecordBytes and is cut there (at a character boundary). */
  cut?: boolean;
  /** The record's bytes are not all valid UTF-8: its cells show U+FFFD where they were. */
  invalidUtf8?: boolean;
}

export interface RecordReaderOptions {
  delimiter: Delimiter;
  /** The line breaks that end a record (dialect.ts); others stay inside cells. */
  recordDelimiters: RecordDelimiter[];
  maxRecordBytes: number;
}

interface Parsed {
  cells: string[];
  /** Absolute offset just past the record's delimiter. */
  end: number;
}

/**
 * Yields every record that is not wholly blank. Blank lines, and records whose cells are all empty
 * or whitespace (Excel's trailing `,,,,` rows), are not records: they hold nothing to trace or echo.
 */
export async function* readRecords(source: AsyncIterable<Buffer>, options: RecordReaderOptions): AsyncGenerator<RawRecord> {
  const input = source[Symbol.asyncIterator]();
  const window = new ByteWindow();
  let sourceDone = false;
  const next = async (): Promise<Buffer | null> => {
    if (sourceDone) return null;
    const step = await input.next();
    if (step.done) {
      sourceDone = true;
      return null;
    }
    return step.value;
  };

  try {
    for (;;) {
      const queue: Parsed[] = [];
      const parser = createParser(options, window.start, queue);
      let failure: Error | undefined;
      try {
        if (window.end > window.start) failure = await write(parser, window.held());
        yield* drain(queue, window);
        while (!failure) {
          const chunk = await next();
          if (chunk === null) {
            failure = await finish(parser);
            yield* drain(queue, window);
            if (!failure) return;
            break;
          }
          window.append(chunk);
          failure = await write(parser, chunk);
          yield* drain(queue, window);
        }
      } finally {
        parser.destroy();
      }
      if (!(failure instanceof CsvError)) throw failure;
      yield await skipMalformedLine(window, failure, options.maxRecordBytes, next, () => sourceDone);
    }
  } finally {
    await input.return?.();
  }
}

function createParser(options: RecordReaderOptions, base: number, queue: Parsed[]): Parser {
  const parser = new Parser({
    delimiter: options.delimiter,
    record_delimiter: options.recordDelimiters,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: options.maxRecordBytes,
    on_record: (record: string[], info) => {
      queue.push({ cells: record, end: base + info.bytes });
      return null;
    },
  });
  // Failures arrive through the write and end callbacks; this keeps Node from treating the
  // matching 'error' event as unhandled.
  parser.on('error', () => {});
  parser.resume();
  return parser;
}

function* drain(queue: Parsed[], window: ByteWindow): Generator<RawRecord> {
  for (const { cells, end } of queue) {
    const before = window.linesBefore;
    // csv-parse decodes each invalid UTF-8 sequence as U+FFFD, the same character a file may hold
    // on purpose (EF BF BD); only the bytes tell them apart, and only records showing one are checked.
    const invalidUtf8 = cells.some((cell) => cell.includes('\uFFFD')) && !window.isUtf8(window.start, end);
    const { leadingBreaks } = window.consume(end);
    if (cells.every((cell) => cell.trim() === '')) continue;
    const record: RawRecord = { cells, line: before + leadingBreaks + 1 };
    if (invalidUtf8) record.invalidUtf8 = true;
    yield record;
  }
  queue.length = 0;
}

/**
 * The failing record starts at the window's first non-blank byte (everything before it was
 * emitted). Its first physical line becomes the malformed record; the rest is replayed.
 */
async function skipMalformedLine(
  window: ByteWindow,
  error: CsvError,
  maxRecordBytes: number,
  next: () => Promise<Buffer | null>,
  sourceDone: () => boolean,
): Promise<RawRecord> {
  window.consume(window.firstContent());
  const line = window.linesBefore + 1;
  const start = window.start;
  let text: string | undefined;
  let lineEnd = window.endOfLine(start, sourceDone());
  while (lineEnd === -1) {
    // A line with no break in sight: keep only its first maxRecordBytes, so memory stays bounded.
    if (window.end - start > 2 * maxRecordBytes) {
      text ??= window.text(start, window.characterBoundary(start + maxRecordBytes));
      window.consume(window.end - 1); // keep a trailing CR: it may be half of a CRLF
    }
    const chunk = await next();
    if (chunk !== null) window.append(chunk);
    lineEnd = window.endOfLine(window.start, sourceDone());
  }
  const cut = text !== undefined || lineEnd - start > maxRecordBytes;
  text ??= window.text(start, lineEnd - start > maxRecordBytes ? window.characterBoundary(start + maxRecordBytes) : lineEnd);
  window.consume(lineEnd);
  const record: RawRecord = { cells: [text.replace(/\r?\n$|\r$/, '')], line, malformed: malformedKind(error) };
  if (cut) record.cut = true;
  return record;
}

function malformedKind(error: CsvError): MalformedKind {
  if (error.code === 'CSV_MAX_RECORD_SIZE') return 'record_too_large';
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') return 'unclosed_quote';
  return 'malformed_record';
}

function write(parser: Parser, chunk: Buffer): Promise<Error | undefined> {
  return new Promise((resolve) => parser.write(chunk, (err) => resolve(err ?? undefined)));
}

function finish(parser: Parser): Promise<Error | undefined> {
  return new Promise((resolve) => {
    parser.once('error', resolve);
    parser.once('finish', () => resolve(undefined));
    parser.end();
  });
}
