import { readdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { configuredProvider } from '../../src/cli/smsp-connection.js';
import { batchPaths, createBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { ingestBatch } from '../../src/pipeline/ingest.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { batchOptions } from '../support/pipeline.js';
import { POPULATION, type UploadServer } from './upload-support.js';

/** Every file of a batch's folder dated `ms` ago, as a batch interrupted that long ago leaves it. */
export async function ageBatch(dataDir: string, id: string, ms: number): Promise<void> {
  const paths = batchPaths(dataDir, id);
  const then = new Date(Date.now() - ms);
  for (const dir of [paths.dir, paths.chunksDir, paths.resultsDir]) {
    for (const name of await readdir(dir).catch(() => [] as string[])) await utimes(path.join(dir, name), then, then);
  }
}

/**
 * A batch of `user`'s for the server's provider, ingested, then left by its process before any
 * chunk was traced (submitted by the CLI, so `serve` does not take it up by itself at start).
 */
export async function interruptedBatch(web: Pick<UploadServer, 'dir' | 'dataDir' | 'config'>, user: string, name: string, rows = 30): Promise<{ meta: BatchMeta; expectedPath: string }> {
  const cohort = await writeCohort({ ...POPULATION, rows, outDir: path.join(web.dir, 'cohorts'), name });
  const created = await createBatch(web.dataDir, cohort.csvPath, batchOptions(path.join(web.dir, 'out', name), { user, roles: ['tracer'] }), configuredProvider(web.config, false));
  const meta = await ingestBatch(web.dataDir, created, { append: async () => undefined });
  return { meta, expectedPath: cohort.expectedPath };
}
