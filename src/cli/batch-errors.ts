import { OutputFolderError } from '../csv/output/output-folder.js';
import { InputFileError } from '../csv/read-input.js';
import { BatchActionRefusedError } from '../pipeline/batch-actions.js';
import { InvalidBatchIdError } from '../pipeline/batch-id.js';
import { BatchRecordMismatchError } from '../pipeline/batch.js';
import { BatchCancelledError, BatchNotCancellableError } from '../pipeline/cancel.js';
import { InputChangedError } from '../pipeline/input-changed-error.js';
import { OutputsTakenError } from '../pipeline/output-ownership.js';
import { BatchStillRunningError, WorkFilesRemovedError } from '../pipeline/retention.js';
import { CliError, EXIT } from './errors.js';

/**
 * The pipeline's refusals to go on with a batch, as one-line CLI errors, for every command that
 * runs one (`signedInCommand` applies it): none reaches a user as a stack trace. A changed or
 * unreadable input is the file's fault (exit 4, as a rejected file); an id that is no batch, or a
 * batch that cannot take the command in its state, is a usage error (exit 2); outputs that cannot
 * be written once a batch has run fail it (exit 1) with its traced results kept for `resume`.
 * Each message already says what to do.
 */
export function batchCliError(err: unknown): unknown {
  if (err instanceof InputChangedError) return new CliError(err.message, EXIT.fileRejected);
  if (err instanceof InputFileError) return new CliError(`The file was not traced: ${err.message}`, EXIT.fileRejected);
  if (err instanceof WorkFilesRemovedError || err instanceof BatchStillRunningError || err instanceof BatchActionRefusedError) return new CliError(err.message, EXIT.usage);
  if (err instanceof InvalidBatchIdError || err instanceof BatchRecordMismatchError || err instanceof BatchNotCancellableError) return new CliError(err.message, EXIT.usage);
  if (err instanceof BatchCancelledError) return new CliError(err.message, EXIT.cancelled);
  if (err instanceof OutputFolderError) {
    return new CliError(`The outputs could not be written: ${err.message}. The traced results are kept; fix the folder and run \`pds-trace resume\` with the batch id above.`, EXIT.failure);
  }
  if (err instanceof OutputsTakenError) return new CliError(`${err.message}.`, EXIT.failure);
  return err;
}
