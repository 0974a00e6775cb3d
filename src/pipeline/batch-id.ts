/**
 * What a batch id may be. Ids name folders under the data folder and come from outside: command
 * arguments, job data in Redis, and (next) web routes. `resume ../../../x` once ran a forged
 * batch.json from a folder of the caller's choosing and audited its exchanges as another user.
 *
 * Two rules, one per place:
 * - every path made from an id (`batchPaths`) takes one plain folder name, never a path: no
 *   separator, no dot, so no id can reach outside `<dataDir>/batches/`;
 * - an id a person types is checked against the form `newBatchId` makes, so a mistyped or
 *   crafted argument is told "not a batch id" before anything is read.
 */

/** The ids `newBatchId` makes: `b` + UTC stamp + first 8 hex of the input's SHA-256 + 4 random hex. */
export const BATCH_ID_PATTERN = /^b\d{8}T\d{6}Z-[0-9a-f]{8}-[0-9a-f]{4}$/;

/** One folder name of letters, digits, `-` and `_` (job data and test fixtures use shorter ids). */
const FOLDER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** An id that is not a batch id: names what was given (an id or a path the user typed, no patient data). */
export class InvalidBatchIdError extends Error {
  override readonly name = 'InvalidBatchIdError';
  constructor(readonly given: string) {
    super(`${JSON.stringify(given.slice(0, 80))} is not a batch id (ids look like b20261206T083000Z-1a2b3c4d-5e6f; see \`pds-trace status\`)`);
  }
}

/** For every path made from an id: refuses anything but one plain folder name. */
export function assertBatchFolderName(id: string): void {
  if (!FOLDER_NAME.test(id)) throw new InvalidBatchIdError(id);
}

/** For ids people give (command arguments, routes): the exact form batches are created with. */
export function assertBatchId(id: string): void {
  if (!BATCH_ID_PATTERN.test(id)) throw new InvalidBatchIdError(id);
}
