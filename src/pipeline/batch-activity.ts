import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { batchPaths } from './batch.js';

/**
 * When anything last wrote to a batch's folder: batch.json, the chunks ingest cuts, the chunk
 * results and the exchange journals tracing appends to a group of rows at a time. Whichever
 * process traces a batch (an embedded run, any worker sharing the data folder), it writes there
 * every few seconds while it works, so a batch unfinished and quiet for minutes is one nothing is
 * tracing: the web service offers to resume it, and refuses to start a second run beside a live one.
 */
export async function lastBatchActivity(dataDir: string, batchId: string): Promise<Date | undefined> {
  const paths = batchPaths(dataDir, batchId);
  let latest = 0;
  for (const dir of [paths.dir, paths.chunksDir, paths.resultsDir]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const info = await stat(path.join(dir, name)).catch(() => undefined);
      if (info?.isFile() && info.mtimeMs > latest) latest = info.mtimeMs;
    }
  }
  return latest > 0 ? new Date(latest) : undefined;
}

/** Minutes of silence after which an unfinished batch is taken to have stopped. */
export const QUIET_BEFORE_RESUME_MS = 2 * 60_000;

/** Whether an unfinished batch has been quiet long enough to count as stopped. */
export async function looksStopped(dataDir: string, batchId: string, now: number, quietMs = QUIET_BEFORE_RESUME_MS): Promise<boolean> {
  const last = await lastBatchActivity(dataDir, batchId);
  return last === undefined || now - last.getTime() >= quietMs;
}
