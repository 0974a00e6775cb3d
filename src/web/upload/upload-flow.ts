import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Principal } from '../../auth/authorise.js';
import { prepareOutputFolder } from '../../csv/output/output-folder.js';
import { openInput } from '../../csv/read-input.js';
import { submit, type TraceOptions } from '../../intake/submit.js';
import type { BatchMeta, OutputFormat } from '../../pipeline/batch.js';
import type { WebContext } from '../server.js';
import { writeEffectiveMapping } from './column-choice.js';
import { fileKindProblem } from './file-kind.js';
import { checkUpload, savePreview, type UploadPreview } from './upload-check.js';
import { fromFileKind, UploadRefusedError } from './upload-problems.js';
import type { UploadRecord, UploadStore } from './upload-store.js';
import { isAvailable, type HandedOver, type TracingChoice } from './tracing.js';
import { webSubmitter } from './web-submitter.js';

/**
 * The upload journey's steps between the routes and the intake: check the file, preview it, and
 * hand it to the intake (`submit`, the one submission path: batch creation, the duplicate check
 * and the submission audit are the intake's, never repeated here).
 */

export interface UploadContext {
  web: WebContext;
  store: UploadStore;
  tracing: TracingChoice;
  handedOver: HandedOver;
}

/** Rows per trace job, as `pds-trace trace` cuts them by default. */
const CHUNK_SIZE = 500;

export interface UploadTraceOptions {
  format: OutputFormat;
  minimal: boolean;
  /** Trace the same bytes again although an earlier batch of them counts (the API's `again`). */
  again: boolean;
}

/** Refuses a file that is not text at all (a workbook, a PDF, an empty file) before the CSV reader sees it. */
async function assertTextFile(store: UploadStore, record: UploadRecord): Promise<void> {
  const problem = await fileKindProblem(store.file(record), record.fileName);
  if (problem) throw new UploadRefusedError(fromFileKind(problem));
}

/**
 * The page's check: the whole file read as the batch would read it, with the columns chosen;
 * the counts saved beside it and every problem written to its problems CSV.
 */
export async function previewUpload(uc: UploadContext, record: UploadRecord): Promise<UploadPreview> {
  await assertTextFile(uc.store, record);
  const mappingFile = await writeEffectiveMapping(uc.store.dir(record.id), record);
  const preview = await checkUpload(uc.store.file(record), { mappingFile, dayFirst: record.dayFirst }, uc.store.problemsPath(record.id), { maxRatePerSecond: uc.web.config.smsp.maxRatePerSecond });
  await savePreview(uc.store.previewPath(record.id), preview);
  return preview;
}

/**
 * The API's check, before the batch is made: the file is text, and its layout (encoding, header,
 * columns) can be traced. Its rows are the batch's to read, once.
 */
export async function checkLayout(uc: UploadContext, record: UploadRecord): Promise<void> {
  await assertTextFile(uc.store, record);
  const mappingFile = await writeEffectiveMapping(uc.store.dir(record.id), record);
  await openInput(uc.store.file(record), { mappingFile, dayFirst: record.dayFirst });
}

/**
 * Submits the upload through the intake, for `principal`, to this server's runner, and removes the
 * upload (the batch has its own copy). A duplicate (DuplicateInputError) leaves nothing made.
 */
export async function traceUpload(uc: UploadContext, principal: Principal, record: UploadRecord, choice: UploadTraceOptions): Promise<BatchMeta> {
  const { tracing, web } = uc;
  if (!isAvailable(tracing)) throw new UploadRefusedError({ status: 503, code: 'tracing_unavailable', message: tracing.unavailable });
  const { dataDir } = web.config;
  // One output folder per upload: two uploads of files with the same name never meet.
  const outDir = path.join(dataDir, 'web', 'outputs', record.id);
  await prepareOutputFolder(outDir);
  let made = false;
  try {
    // The batch reads its mapping at ingest, possibly on another worker: a copy that outlives the upload.
    const chosen = await writeEffectiveMapping(uc.store.dir(record.id), record);
    const mappingFile = chosen ? path.join(outDir, path.basename(chosen)) : undefined;
    if (chosen && mappingFile) await copyFile(chosen, mappingFile);
    const options: TraceOptions = {
      format: choice.format,
      mappingFile,
      minimal: choice.minimal,
      fallbacks: [],
      outDir,
      // Analysts open results in Excel, which without a BOM reads UTF-8 names as the ANSI code page.
      bom: true,
      dayFirst: record.dayFirst,
      chunkSize: CHUNK_SIZE,
      replaceOutputs: false,
    };
    const submitted = await submit(
      { dataDir, provider: tracing.provider, duplicateWindowHours: web.config.duplicateWindowHours },
      { file: uc.store.file(record), submitter: webSubmitter(web, principal), options, wayIn: 'web', again: choice.again },
      tracing.runner,
      uc.handedOver.signal,
    );
    made = true;
    uc.handedOver.follow(submitted.batch.id, submitted.run);
    await uc.store.remove(record.id);
    return submitted.batch;
  } catch (err) {
    // Nothing made (a duplicate, say): no empty output folder is left behind either.
    if (!made) await rm(outDir, { recursive: true, force: true });
    throw err;
  }
}
