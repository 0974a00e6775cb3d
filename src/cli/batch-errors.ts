import { InputChangedError } from '../pipeline/input-changed-error.js';
import { BatchStillRunningError, WorkFilesRemovedError } from '../pipeline/retention.js';
import { CliError, EXIT } from './errors.js';

/**
 * The pipeline's refusals to go on with a batch, as one-line CLI errors. A changed input is the
 * file's fault (exit 4, as a rejected file); a batch that cannot take the command in its state is
 * a usage error (exit 2). Each message already says what to do.
 */
export function batchCliError(err: unknown): unknown {
  if (err instanceof InputChangedError) return new CliError(err.message, EXIT.fileRejected);
  if (err instanceof WorkFilesRemovedError || err instanceof BatchStillRunningError) return new CliError(err.message, EXIT.usage);
  return err;
}
