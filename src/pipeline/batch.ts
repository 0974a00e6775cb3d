import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../csv/output/atomic-file.js';
import type { Provider } from './provider.js';
import type { Fallback } from './strategy.js';

/**
 * A batch is one input file on its way through ingest → trace → assemble. Its state lives in a
 * folder of its own under the data directory, so any worker on any machine sharing that folder can
 * pick it up, and a crash or an empty Redis loses nothing that was written there.
 *
 *   <dataDir>/batches/<id>/batch.json         what the batch is and how far it got
 *   <dataDir>/batches/<id>/rejected.jsonl     results of rows rejected at ingest, in row order
 *   <dataDir>/batches/<id>/local-id-repeats.jsonl  rows repeating an earlier row's local id, ascending
 *   <dataDir>/batches/<id>/chunks/NNNNN.jsonl rows to trace (row number + normalised query)
 *   <dataDir>/batches/<id>/results/NNNNN.jsonl results of a traced chunk (present ⇒ chunk done)
 *   <dataDir>/batches/<id>/provider-hold.json why workers on another provider wait (provider-hold.ts)
 *
 * Chunk and result files hold patient data: owner-only files in an owner-only folder.
 */

export type OutputFormat = 'native' | 'mesh';

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
  /** Write a UTF-8 BOM at the start of CSV outputs (Excel). */
  bom: boolean;
  /** Read ambiguous dates such as 03/04/2001 day first (UK). */
  dayFirst: boolean;
  /** Rows per trace job. */
  chunkSize: number;
}

export interface ChunkRef {
  index: number;
  firstRow: number;
  lastRow: number;
  rows: number;
}

export type BatchState = 'created' | 'ingested' | 'assembled' | 'rejected';

export interface BatchMeta {
  id: string;
  createdAt: string;
  inputPath: string;
  /** The input's file name without its extension: outputs are `<name>.results.csv` and so on. */
  name: string;
  inputSha256: string;
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
  rejected: string;
  localIdRepeats: string;
  chunksDir: string;
  resultsDir: string;
  chunk(index: number): string;
  chunkResults(index: number): string;
}

export function batchPaths(dataDir: string, id: string): BatchPaths {
  const dir = path.join(dataDir, 'batches', id);
  const pad = (i: number) => String(i).padStart(5, '0');
  return {
    dir,
    meta: path.join(dir, 'batch.json'),
    rejected: path.join(dir, 'rejected.jsonl'),
    localIdRepeats: path.join(dir, 'local-id-repeats.jsonl'),
    chunksDir: path.join(dir, 'chunks'),
    resultsDir: path.join(dir, 'results'),
    chunk: (i) => path.join(dir, 'chunks', `${pad(i)}.jsonl`),
    chunkResults: (i) => path.join(dir, 'results', `${pad(i)}.jsonl`),
  };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
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

export async function createBatch(dataDir: string, inputPath: string, options: BatchOptions, provider: Provider, now = new Date()): Promise<BatchMeta> {
  const absolute = path.resolve(inputPath);
  const inputSha256 = await sha256File(absolute);
  const meta: BatchMeta = {
    id: newBatchId(now, inputSha256),
    createdAt: now.toISOString(),
    inputPath: absolute,
    name: outputName(absolute),
    inputSha256,
    provider,
    options: { ...options, outDir: path.resolve(options.outDir) },
    state: 'created',
  };
  const paths = batchPaths(dataDir, meta.id);
  for (const dir of [paths.dir, paths.chunksDir, paths.resultsDir]) await mkdir(dir, { recursive: true, mode: 0o700 });
  await saveBatch(paths, meta);
  return meta;
}

export async function saveBatch(paths: BatchPaths, meta: BatchMeta): Promise<void> {
  await writeFileAtomic(paths.meta, `${JSON.stringify(meta, null, 2)}\n`);
}

export async function loadBatch(dataDir: string, id: string): Promise<BatchMeta> {
  return JSON.parse(await readFile(batchPaths(dataDir, id).meta, 'utf8')) as BatchMeta;
}
