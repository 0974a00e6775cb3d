import { loadBatch, type BatchMeta, type BatchOutputs, type BatchState } from '../pipeline/batch.js';
import { batchOutputPaths } from '../pipeline/output-paths.js';
import { readSeen } from './seen-inputs.js';

/**
 * The duplicate check of every way in (issues 15 and 16): the same bytes submitted again are not
 * traced again while an earlier batch of them is in progress (however old), nor within the window
 * (PDS_TRACE_DUPLICATE_WINDOW_HOURS) after it was submitted. A batch whose file was rejected, or
 * that was stopped, traced nothing and does not count. The way in decides what to do about it:
 * `trace --again` goes ahead, a watched folder moves the copy to failed/.
 */

/** States of a batch still on its way: it counts as a duplicate whatever its age. */
const IN_PROGRESS: ReadonlySet<BatchState> = new Set<BatchState>(['created', 'ingested']);

export interface EarlierBatch {
  batchId: string;
  submittedAt: string;
  submittedBy: string;
  /** The file it was submitted from (a watched folder's claimed copy in processing/). */
  inputPath: string;
  state: BatchState;
  /** Its output files: where they are, or for a batch in progress, where they will be. */
  outputs: BatchOutputs;
}

/** The same input bytes were traced recently, or are being traced: nothing was submitted. */
export class DuplicateInputError extends Error {
  override readonly name = 'DuplicateInputError';
  constructor(
    readonly sha256: string,
    readonly earlier: EarlierBatch,
    readonly windowHours: number,
  ) {
    const progress = IN_PROGRESS.has(earlier.state) ? `still in progress (${earlier.state})` : `finished (${earlier.state})`;
    super(
      `the same file (the same bytes, SHA-256 ${sha256.slice(0, 12)}…) was submitted as batch ${earlier.batchId} ` +
        `at ${earlier.submittedAt} by ${earlier.submittedBy}, which is ${progress}; ` +
        `its results ${IN_PROGRESS.has(earlier.state) ? 'will be' : 'are'} ${earlier.outputs.results}, with its audit, summary and reports beside them`,
    );
  }
}

export interface DuplicateCheckOptions {
  windowHours: number;
  now: Date;
}

/**
 * The most recent earlier batch of these bytes that still counts, if any. A recorded batch whose
 * folder is gone counts for nothing (nothing of it is left to name).
 */
export async function findEarlierBatch(dataDir: string, sha256: string, options: DuplicateCheckOptions): Promise<EarlierBatch | undefined> {
  const windowStart = options.now.getTime() - options.windowHours * 3_600_000;
  for (const seen of (await readSeen(dataDir, sha256)).reverse()) {
    const meta = await loadBatch(dataDir, seen.batchId).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!meta || meta.inputSha256 !== sha256) continue;
    const recent = Date.parse(meta.createdAt) >= windowStart && meta.state === 'assembled';
    if (IN_PROGRESS.has(meta.state) || recent) return describeEarlier(meta);
  }
  return undefined;
}

function describeEarlier(meta: BatchMeta): EarlierBatch {
  return {
    batchId: meta.id,
    submittedAt: meta.createdAt,
    submittedBy: meta.options.user,
    inputPath: meta.inputPath,
    state: meta.state,
    outputs: meta.outputs ?? batchOutputPaths(meta),
  };
}
