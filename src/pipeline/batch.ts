import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { assertBatchFolderName, BATCH_ID_PATTERN } from './batch-id.js';
import { writeFileAtomic } from '../csv/output/atomic-file.js';
import { checkInputUnchanged, copyInputHashing } from './input-copy.js';
import type { Provider } from './provider.js';
import type { Fallback } from './strategy.js';
import type { PriorityClass, WayIn } from './priority.js';

/**
 * A batch is one input file on its way through ingest → trace → assemble. Its state lives in a
 * folder of its own under the data directory, so any worker on any machine sharing that folder can
 * pick it up, and a crash or an empty Redis loses nothing that was written there.
 *
 *   <dataDir>/batches/<id>/batch.json         what the batch is and how far it got
 *   <dataDir>/batches/<id>/input.csv          the batch's own copy of the input, as submitted
 *   <dataDir>/batches/<id>/rejected.jsonl     results of rows rejected at ingest, in row order
 *   <dataDir>/batches/<id>/local-id-repeats.jsonl  rows repeating an earlier row's local id, ascending
 *   <dataDir>/batches/<id>/chunks/NNNNN.jsonl rows to trace (row number + normalised query)
 *   <dataDir>/batches/<id>/results/NNNNN.jsonl results of a traced chunk (present ⇒ chunk done)
 *   <dataDir>/batches/<id>/provider-hold.json why workers on another provider wait (provider-hold.ts)
 *   <dataDir>/batches/<id>/cancelled.json     who cancelled the batch and when (cancel.ts)
 *
 * The input copy, chunk and result files hold patient data: owner-only files in an owner-only
 * folder. They are work files, removed after the retention period or by `purge` (retention.ts);
 * batch.json stays, and so do the outputs in the batch's output folder.
 */

export type OutputFormat = 'native' | 'mesh';

/** The batch's copy of its input, in the batch folder. */
const INPUT_COPY_NAME = 'input.csv';

export interface BatchOptions {
  format: OutputFormat;
  mappingFile?: string;
  minimal: boolean;
  fallbacks: Fallback[];
  /** The local user accountable for the batch (audit trail, SMSP username). */
  user: string;
  /** That user's roles when they submitted it, for the audit trail. */
  roles: string[];
  /** The audit identity SMSP was told (ASID or ITK form), recorded as each event's origin. */
  origin?: string;
  /** Folder the results, audit and summary files are written into. */
  outDir: string;
  /** `--replace`: this batch may replace outputs of another batch in outDir (output-ownership.ts). Default false. */
  replaceOutputs?: boolean;
  /** Write a UTF-8 BOM at the start of CSV outputs (Excel). */
  bom: boolean;
  /** Read ambiguous dates such as 03/04/2001 day first (UK). */
  dayFirst: boolean;
  /** Rows per trace job. */
  chunkSize: number;
  /** Who the batch is traced for, when the submitter acts for someone (a watched folder's named person). */
  onBehalfOf?: string;
  /** Interactive (CLI, web) or bulk (watched folders, schedules): priority.ts. Absent: interactive. */
  priority?: PriorityClass;
  /** How the file came in (priority.ts); absent on batches made before it was recorded. */
  wayIn?: WayIn;
}

export interface ChunkRef {
  index: number;
  firstRow: number;
  lastRow: number;
  rows: number;
}

/** `cancelled`: stopped by a person (cancel.ts); nothing more is traced and no outputs are written. */
export type BatchState = 'created' | 'ingested' | 'assembled' | 'rejected' | 'cancelled';

/** Who cancelled a batch, when, and how far it had got. */
export interface BatchCancellation {
  /** ISO 8601 UTC. */
  at: string;
  /** The user id of whoever ran `cancel`. */
  by: string;
  /** The state it was in when cancelled. */
  from: BatchState;
}

export interface BatchMeta {
  id: string;
  createdAt: string;
  /** Where the input was submitted from: for display only, never read after submission. */
  inputPath: string;
  /** The input's file name without its extension: outputs are `<name>.results.csv` and so on. */
  name: string;
  /** SHA-256 of the input bytes as submitted: of the batch's copy (checked before every read). */
  inputSha256: string;
  /**
   * The batch's own copy of the input, relative to the batch folder (workers on other machines may
   * mount the data folder elsewhere). Absent for a batch created before copies were kept: it reads
   * `inputPath`, still checked against `inputSha256`.
   */
  inputCopy?: string;
  /** Size of the input copy in bytes: a cheap first check before hashing. */
  inputBytes?: number;
  /**
   * How each row's digest was made, when ingest recorded one per row (row-digest.ts): assemble
   * then refuses any result whose row is not the row that was traced. Absent for older batches.
   */
  rowDigests?: RowDigestScheme;
  /**
   * The SMSP provider the batch is for, fixed at submission (src/pipeline/provider.ts): only a
   * process on the same provider traces it. Absent for a batch made by an older pds-trace, which
   * is therefore traced nowhere and must be submitted again.
   */
  provider?: Provider;
  options: BatchOptions;
  state: BatchState;
  /** Data rows in the file, valid or not (after ingest). */
  rows?: number;
  rejectedRows?: number;
  /**
   * Rows repeating an earlier row's local id, listed in `local-id-repeats.jsonl` (after ingest).
   * Absent for a batch ingested before that file was written: assemble then finds them itself.
   */
  localIdRepeats?: number;
  chunks?: ChunkRef[];
  layout?: { kind: string; encoding: string; delimiter: string; headers: string[]; warnings: string[] };
  /** Why the file itself was rejected (state `rejected`): no patient data. */
  rejection?: { reason: string; message: string };
  outputs?: BatchOutputs;
  finishedAt?: string;
  /** When the work files (input copy, chunks, results, row lists) were removed, and by whom. */
  workFilesRemoved?: WorkFilesRemoval;
  /** Present when the batch was cancelled (state `cancelled`). */
  cancelled?: BatchCancellation;
}

/** The one digest scheme so far: the first 16 hex characters of SHA-256 over the row's cells. */
export type RowDigestScheme = 'sha256-16';

export interface WorkFilesRemoval {
  /** ISO 8601 UTC. */
  at: string;
  /** `retention` for the sweep, else the user id of whoever ran `purge`. */
  by: string;
  /** The retention period that applied, for a removal by the sweep. */
  retentionHours?: number;
}

/** The files assemble writes, beside each other in the batch's output folder. */
export interface BatchOutputs {
  results: string;
  audit: string;
  summaryJson: string;
  summaryHtml: string;
  /** Every data-quality finding per row, for the back office (src/quality/back-office-report.ts). */
  backOffice: string;
  /** Every difference from PDS per row and field (src/quality/discrepancy-report.ts). */
  discrepancies: string;
}

export interface BatchPaths {
  dir: string;
  meta: string;
  /** The batch's own copy of its input. */
  input: string;
  rejected: string;
  localIdRepeats: string;
  /** Which output set assemble claimed (output-ownership.ts): no patient data. */
  outputsClaim: string;
  /** The batch's cancellation, when it was cancelled (cancel.ts): no patient data. */
  cancelled: string;
  chunksDir: string;
  resultsDir: string;
  chunk(index: number): string;
  chunkResults(index: number): string;
}

export function batchPaths(dataDir: string, id: string): BatchPaths {
  assertBatchFolderName(id);
  const dir = path.join(dataDir, 'batches', id);
  const pad = (i: number) => String(i).padStart(5, '0');
  return {
    dir,
    meta: path.join(dir, 'batch.json'),
    input: path.join(dir, INPUT_COPY_NAME),
    rejected: path.join(dir, 'rejected.jsonl'),
    localIdRepeats: path.join(dir, 'local-id-repeats.jsonl'),
    outputsClaim: path.join(dir, 'outputs-claim.json'),
    cancelled: path.join(dir, 'cancelled.json'),
    chunksDir: path.join(dir, 'chunks'),
    resultsDir: path.join(dir, 'results'),
    chunk: (i) => path.join(dir, 'chunks', `${pad(i)}.jsonl`),
    chunkResults: (i) => path.join(dir, 'results', `${pad(i)}.jsonl`),
  };
}

/** Batch ids are safe as BullMQ job ids (no colon, not all digits) and sort by creation time. */
export function newBatchId(now: Date, inputSha256: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `b${stamp}-${inputSha256.slice(0, 8)}-${randomBytes(2).toString('hex')}`;
}

export function outputName(inputPath: string): string {
  const base = path.basename(inputPath);
  const ext = path.extname(base);
  return ext ? base.slice(0, -ext.length) : base;
}

/** An input copied into `<dataDir>/staging/` and hashed on the way: not yet a batch. */
export interface StagedInput {
  /** The file as submitted, absolute. */
  readonly inputPath: string;
  /** The staged copy (owner-only). */
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * Copies the input into the staging folder, hashing it in the same read, so the hash is of exactly
 * the bytes the batch will trace and a way in can check that hash (duplicates) before a batch
 * exists. Discard the staged copy with `discardStaged` whatever happens next.
 */
export async function stageInput(dataDir: string, inputPath: string): Promise<StagedInput> {
  const absolute = path.resolve(inputPath);
  const stagingDir = path.join(dataDir, 'staging');
  await mkdir(stagingDir, { recursive: true, mode: 0o700 });
  const staged = path.join(stagingDir, `${randomBytes(8).toString('hex')}.part`);
  try {
    const copy = await copyInputHashing(absolute, staged);
    return { inputPath: absolute, file: staged, sha256: copy.sha256, bytes: copy.bytes };
  } catch (err) {
    await rm(staged, { force: true });
    throw err;
  }
}

/** Removes a staged copy that did not become a batch (a no-op once it did: it was moved). */
export async function discardStaged(staged: StagedInput): Promise<void> {
  await rm(staged.file, { force: true });
}

/**
 * Makes a staged input a batch: the batch id carries the hash, so the copy is moved into the batch
 * folder once the id is known (a rename on the same file system). Every later stage reads that
 * copy, never `inputPath`: a file edited after submission cannot put one patient's answer on
 * another's row (ARCHITECTURE property 9).
 */
export async function createBatchFromStaged(dataDir: string, staged: StagedInput, options: BatchOptions, provider: Provider, now = new Date()): Promise<BatchMeta> {
  const meta: BatchMeta = {
    id: newBatchId(now, staged.sha256),
    createdAt: now.toISOString(),
    inputPath: staged.inputPath,
    name: outputName(staged.inputPath),
    inputSha256: staged.sha256,
    inputCopy: INPUT_COPY_NAME,
    inputBytes: staged.bytes,
    provider,
    options: { ...options, outDir: path.resolve(options.outDir) },
    state: 'created',
  };
  const paths = batchPaths(dataDir, meta.id);
  for (const dir of [paths.dir, paths.chunksDir, paths.resultsDir]) await mkdir(dir, { recursive: true, mode: 0o700 });
  await rename(staged.file, paths.input);
  await saveBatch(paths, meta);
  return meta;
}

/** Creates a batch with its own owner-only copy of the input (stageInput, then createBatchFromStaged). */
export async function createBatch(dataDir: string, inputPath: string, options: BatchOptions, provider: Provider, now = new Date()): Promise<BatchMeta> {
  const staged = await stageInput(dataDir, inputPath);
  try {
    return await createBatchFromStaged(dataDir, staged, options, provider, now);
  } finally {
    await discardStaged(staged);
  }
}

export async function saveBatch(paths: BatchPaths, meta: BatchMeta): Promise<void> {
  await writeFileAtomic(paths.meta, `${JSON.stringify(meta, null, 2)}\n`);
}

/** A batch.json that names another batch than its folder: copied or forged, never trusted. */
export class BatchRecordMismatchError extends Error {
  override readonly name = 'BatchRecordMismatchError';
  constructor(readonly batchId: string) {
    super(`batch ${batchId}: its batch.json names another batch (copied or edited); nothing was done`);
  }
}

/**
 * The batch as recorded. A cancellation lives in a file of its own and wins over batch.json: a stage
 * that read the batch before it was cancelled and saves it after (ingest finishing, say) cannot
 * undo the cancellation.
 */
export async function loadBatch(dataDir: string, id: string): Promise<BatchMeta> {
  const paths = batchPaths(dataDir, id);
  const meta = JSON.parse(await readFile(paths.meta, 'utf8')) as BatchMeta;
  if (meta.id !== id) throw new BatchRecordMismatchError(id);
  const cancelled = await readBatchCancellation(paths);
  return cancelled ? { ...meta, state: 'cancelled', cancelled, finishedAt: meta.finishedAt ?? cancelled.at } : meta;
}

export async function readBatchCancellation(paths: BatchPaths): Promise<BatchCancellation | undefined> {
  try {
    return JSON.parse(await readFile(paths.cancelled, 'utf8')) as BatchCancellation;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Ids of every batch folder under the data folder, oldest first (ids sort by creation time). */
export async function listBatchIds(dataDir: string): Promise<string[]> {
  const names = await readdir(path.join(dataDir, 'batches')).catch(() => [] as string[]);
  // Anything else in that folder (an editor's backup, a dotfile) is no batch.
  return names.filter((name) => BATCH_ID_PATTERN.test(name)).sort();
}

/** The file a batch's stages read: its own copy, or for a batch from before copies, the original. */
export function batchInputFile(dataDir: string, meta: BatchMeta): string {
  return meta.inputCopy ? path.join(batchPaths(dataDir, meta.id).dir, meta.inputCopy) : meta.inputPath;
}

/**
 * The batch's input file, once checked to hold the bytes it was submitted with (InputChangedError
 * if not). Every stage calls this right before it reads the input.
 */
export async function verifiedBatchInput(dataDir: string, meta: BatchMeta): Promise<string> {
  const file = batchInputFile(dataDir, meta);
  await checkInputUnchanged(file, { batchId: meta.id, sha256: meta.inputSha256, bytes: meta.inputBytes });
  return file;
}
