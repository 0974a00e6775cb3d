import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify, type Options as StringifyOptions } from 'csv-stringify';
import { openAtomicFile, type AtomicFileOptions } from './atomic-file.js';

/**
 * CSV records streamed through csv-stringify with backpressure, so memory stays flat in the number
 * of rows (ARCHITECTURE property 5).
 *
 * Dialect for every CSV pds-trace writes: comma, `"` quoting only where needed, and CRLF record
 * delimiters, which is what Excel writes and what NHS CSV consumers (RFC 4180, the PDS MESH
 * samples) expect. No formula escaping here: that is per cell, see formula-guard.ts.
 *
 * `quote_record_delimiter` must be set explicitly: once `record_delimiter` is given, csv-stringify
 * stops quoting cells holding a bare `\n` or `\r` (normalize_options.js defaults it to
 * `!record_delimiter`), and an address with a line break would split its row in two (found by the
 * round-trip property test). A cell starting with U+FEFF is quoted so that, first in the file,
 * a reader does not take it for a byte order mark and drop it.
 */
export const CSV_DIALECT: StringifyOptions = {
  delimiter: ',',
  record_delimiter: 'windows',
  quote_record_delimiter: true,
  quote: '"',
  quoted_match: /^\uFEFF/,
};

export interface CsvOptions {
  /** Start the file with a UTF-8 BOM, without which Excel guesses the ANSI code page (ecosystem.md §4.2). */
  bom?: boolean;
}

export interface CsvRecordWriter {
  write(record: readonly string[]): Promise<void>;
  /** Ends the target once every record is written to it. */
  end(): Promise<void>;
  destroy(): Promise<void>;
}

export function csvRecordWriter(target: Writable, options: CsvOptions = {}): CsvRecordWriter {
  const stringifier = stringify({ ...CSV_DIALECT, bom: options.bom ?? false });
  const piped = pipeline(stringifier, target);
  // Observed by end()/destroy(); a failure meanwhile must not surface as an unhandled rejection.
  piped.catch(() => undefined);
  return {
    async write(record) {
      // A copy: csv-stringify holds the array until it is serialised.
      if (!stringifier.write([...record])) await once(stringifier, 'drain');
    },
    async end() {
      stringifier.end();
      await piped;
    },
    async destroy() {
      stringifier.destroy();
      await piped.catch(() => undefined);
    },
  };
}

/** A CSV file that appears under its final name, complete, on close, and never on abort. */
export interface CsvSink {
  write(record: readonly string[]): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export async function openCsvSink(finalPath: string, options: CsvOptions & AtomicFileOptions = {}): Promise<CsvSink> {
  const file = await openAtomicFile(finalPath, options);
  const csv = csvRecordWriter(file.stream, options);
  return {
    write: (record) => csv.write(record),
    async close() {
      try {
        await csv.end();
        await file.commit();
      } catch (err) {
        await file.abort();
        throw err;
      }
    },
    async abort() {
      await csv.destroy();
      await file.abort();
    },
  };
}
