/**
 * A batch's input is not the input it was submitted with: its copy's bytes changed (or went
 * missing), or a row no longer matches the row that was traced. The batch stops rather than join
 * one patient's answer to another's row (ARCHITECTURE property 9). Names the batch and the row
 * number, never a cell.
 */
export class InputChangedError extends Error {
  override readonly name = 'InputChangedError';
  /** As a rejected batch records it (`rejection.reason`). */
  readonly reason = 'input_changed';
  constructor(
    readonly batchId: string,
    /** The first row whose digest differs; absent when the whole file's hash or size differs. */
    readonly row?: number,
  ) {
    const what = row === undefined ? "the batch's input copy changed since submission" : `row ${row} of the batch's input copy is not the row that was traced`;
    super(`batch ${batchId}: ${what}; nothing was written; submit the file again`);
  }
}
