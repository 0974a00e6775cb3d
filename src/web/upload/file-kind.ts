import path from 'node:path';
import { detectEncoding, readHead, readTextSample } from '../../csv/input/encoding.js';

/**
 * Whether an uploaded file is text a CSV reader can use at all, before the CSV reader is asked: the
 * reader reads any bytes as some text (Windows-1252 takes every byte), so an Excel workbook or a
 * PDF would otherwise come back as "columns not found" over pages of garbage. People upload the
 * workbook rather than its CSV export often enough to say so by name.
 */

export type FileKindProblem = { code: 'not_csv' | 'unreadable_encoding' | 'empty'; message: string };

const SAVE_AS_CSV = 'In Excel, use File > Save As and choose "CSV UTF-8 (Comma delimited)", then upload that file.';

/** Magic numbers of the files most often uploaded by mistake. */
const SIGNATURES: ReadonlyArray<{ bytes: readonly number[]; what: string }> = [
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'an Excel workbook or another zipped file (.xlsx, .ods, .zip)' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: 'an old Excel workbook (.xls) or another Office file' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF' },
  { bytes: [0x1f, 0x8b], what: 'a compressed (gzip) file' },
];

const NOT_CSV_EXTENSIONS = new Set(['.xlsx', '.xlsm', '.xls', '.ods', '.numbers', '.pdf', '.doc', '.docx', '.zip', '.gz', '.json', '.xml']);

/** A text sample this long shows whether the file reads as text. */
const SAMPLE_BYTES = 64 * 1024;

export async function fileKindProblem(file: string, fileName: string): Promise<FileKindProblem | undefined> {
  const head = await readHead(file, 8);
  if (head.length === 0) return { code: 'empty', message: 'The file is empty. Check you chose the right file, and that it was saved before you uploaded it.' };
  const signature = SIGNATURES.find((s) => s.bytes.every((b, i) => head[i] === b));
  if (signature) return { code: 'not_csv', message: `The file is not a CSV file: it is ${signature.what}. ${SAVE_AS_CSV}` };
  const extension = path.extname(fileName).toLowerCase();
  if (NOT_CSV_EXTENSIONS.has(extension)) return { code: 'not_csv', message: `The file is not a CSV file (it ends ${extension}). ${SAVE_AS_CSV}` };

  const encoding = await detectEncoding(file);
  const { text } = await readTextSample(file, encoding, SAMPLE_BYTES);
  if (!readsAsText(text)) {
    return {
      code: 'unreadable_encoding',
      message: `The file cannot be read as text: it holds characters that no CSV export writes (read as ${encoding.encoding}). Save it again as CSV, UTF-8 if you can, and upload that.`,
    };
  }
  return undefined;
}

/** Control characters other than tab and line breaks, NULs and U+FFFD are what binary data decodes to. */
function readsAsText(text: string): boolean {
  if (text.length === 0) return true;
  let odd = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f || code === 0xfffd) odd++;
  }
  // A few stray bytes are the CSV reader's to report row by row (invalid_encoding); a file of them is not text.
  return odd / text.length < 0.05;
}
