/**
 * What `pds-trace trace` checks before it creates a batch, so a run that cannot succeed stops
 * before anything is submitted, audited as submitted, or sent to SMSP. Each check's rule lives in
 * its own module; this file only runs them and turns their typed errors into exit codes.
 */
import { OutputFolderError, prepareOutputFolder } from '../csv/output/output-folder.js';
import { assertHasRows, InputFileError } from '../csv/read-input.js';
import type { BatchOptions } from '../pipeline/batch.js';
import { CliError, EXIT } from './errors.js';

export async function checkBeforeSubmitting(file: string, options: BatchOptions): Promise<void> {
  try {
    await assertHasRows(file, { mappingFile: options.mappingFile });
  } catch (err) {
    // The same words and exit code as a batch rejected at ingest (trace-command.ts `report`).
    if (err instanceof InputFileError) throw new CliError(`The file was not traced: ${err.message}`, EXIT.fileRejected);
    throw err;
  }
  try {
    await prepareOutputFolder(options.outDir);
  } catch (err) {
    // A usage error (2), not a rejected file (4): the input is fine, the command line needs another --out.
    if (err instanceof OutputFolderError) throw new CliError(`Nothing was traced: ${err.message}. Give a writable folder with --out.`, EXIT.usage);
    throw err;
  }
}
