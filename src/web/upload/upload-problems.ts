import { InputFileError } from '../../csv/read-input.js';
import { DuplicateInputError } from '../../intake/duplicate-check.js';
import type { ProblemCode } from '../problems.js';
import type { FileKindProblem } from './file-kind.js';
import { UploadTooLargeError } from './upload-store.js';

/**
 * What is wrong with an uploaded file, said once for the page's error summary and the API's
 * `{ code, message }`: what is wrong and how to fix it. The CSV reader's own messages (which name
 * columns and fields, never values) are kept, with the CLI's `--mapping` put in the web's words.
 */

export interface UploadProblem {
  status: number;
  code: ProblemCode;
  message: string;
  /** For a duplicate: the earlier batch of the same bytes. */
  earlierBatchId?: string;
}

export class UploadRefusedError extends Error {
  override readonly name = 'UploadRefusedError';
  constructor(readonly problem: UploadProblem) {
    super(problem.message);
  }
}

export const NO_FILE: UploadProblem = { status: 400, code: 'no_file', message: 'Choose a CSV file to upload.' };

export function fromFileKind(problem: FileKindProblem): UploadProblem {
  return { status: problem.code === 'empty' ? 422 : 415, code: problem.code === 'empty' ? 'empty_file' : problem.code, message: problem.message };
}

/** The problem an error stands for, or undefined for an error that is ours, not the file's. */
export function uploadProblem(err: unknown): UploadProblem | undefined {
  if (err instanceof UploadRefusedError) return err.problem;
  if (err instanceof UploadTooLargeError) {
    return { status: 413, code: 'too_large', message: `The file is too large: this service takes files up to ${megabytes(err.maxBytes)}. Split it into smaller files and upload each, or ask the service administrator to raise PDS_TRACE_WEB_UPLOAD_MAX_MB.` };
  }
  if (err instanceof InputFileError) {
    const message = inWebWords(err.message);
    if (err.reason === 'no_rows') return { status: 422, code: 'empty_file', message: `${message} Check you chose the right file, and that the export finished.` };
    return { status: 422, code: 'no_usable_columns', message };
  }
  if (err instanceof DuplicateInputError) {
    const { earlier } = err;
    const progress = earlier.state === 'created' || earlier.state === 'ingested' ? 'is still being traced' : 'has finished';
    return {
      status: 409,
      code: 'duplicate_input',
      message: `This file was not traced again: the same file (the same bytes) was submitted as batch ${earlier.batchId} at ${earlier.submittedAt}, which ${progress}. Use that batch's results, or change the file if you mean a new trace.`,
      earlierBatchId: earlier.batchId,
    };
  }
  return undefined;
}

/** The reader speaks to the command line (`--mapping`); on the web a mapping comes with the upload or from the check page. */
function inWebWords(message: string): string {
  return message
    .replace(/Give a --mapping file/g, 'Upload a mapping file with the CSV')
    .replace(/with --mapping/g, 'in a mapping file uploaded with the CSV, or choose the columns on the check page')
    .replace(/--mapping/g, 'mapping');
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024).toLocaleString('en-GB')} MB`;
}
