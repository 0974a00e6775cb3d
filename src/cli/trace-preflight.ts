/**
 * What `pds-trace trace` checks before it creates a batch, so a run that cannot succeed stops
 * before anything is submitted, audited as submitted, or sent to SMSP: the input is a file that
 * can be read and has data rows, the output folder can be written, and no other batch's outputs
 * are in the way. Each rule lives in its own module; this file runs them and turns their typed
 * errors into messages and exit codes.
 */
import { open } from 'node:fs/promises';
import { OutputFolderError, prepareOutputFolder } from '../csv/output/output-folder.js';
import { assertHasRows } from '../csv/read-input.js';
import { outputName, type BatchOptions } from '../pipeline/batch.js';
import { assertOutputsFree, OutputsTakenError } from '../pipeline/output-ownership.js';
import { outputPaths } from '../pipeline/output-paths.js';
import { isSimulated, type Provider } from '../pipeline/provider.js';
import { batchCliError } from './batch-errors.js';
import { CliError, EXIT } from './errors.js';
import { fileProblem } from './describe-error.js';

export async function checkBeforeSubmitting(file: string, options: Pick<BatchOptions, 'mappingFile' | 'outDir' | 'replaceOutputs'>, provider: Provider): Promise<void> {
  await assertReadableFile(file);
  try {
    await assertHasRows(file, { mappingFile: options.mappingFile });
    await prepareOutputFolder(options.outDir);
    await assertOutputsFree(outputPaths(options.outDir, outputName(file), isSimulated(provider)), { replace: options.replaceOutputs === true });
  } catch (err) {
    // Output problems are usage errors (2): the input is fine, the command line needs another
    // --out or --replace. An input with no rows is a rejected file (4), as when ingest finds it.
    throw asCliError(err, 'before');
  }
}

/** A missing, unreadable or folder input is a rejected file (4), said in a sentence. */
async function assertReadableFile(file: string): Promise<void> {
  const refuse = (why: string) => new CliError(`The file was not traced: ${why}.`, EXIT.fileRejected);
  const handle = await open(file, 'r').catch((err: unknown) => {
    throw refuse(fileProblem(err) ?? `${file} cannot be opened (${(err as Error).message})`);
  });
  try {
    if ((await handle.stat()).isDirectory()) throw refuse(`${file} is a folder; give the CSV file itself`);
  } finally {
    await handle.close();
  }
}

/**
 * The typed errors of the input and output checks as one-line CLI errors; anything else as is.
 * Before submitting, output problems are usage errors (2) and nothing was sent; after the run they
 * are what every batch command maps them to (batchCliError): failures (1) of a batch whose traced
 * results are kept for `resume`.
 */
export function asCliError(err: unknown, stage: 'before' | 'after'): unknown {
  if (stage === 'after') return batchCliError(err);
  if (err instanceof OutputFolderError) return new CliError(`Nothing was traced: ${err.message}. Give a writable folder with --out.`, EXIT.usage);
  if (err instanceof OutputsTakenError) return new CliError(`${err.message}.`, EXIT.usage);
  return batchCliError(err);
}
