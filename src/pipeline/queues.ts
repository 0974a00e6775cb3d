import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { readdir } from 'node:fs/promises';
import { batchPaths, type BatchMeta } from './batch.js';
import { redisLiveProgress, type LiveProgress, type LiveProgressRedis } from './live-progress.js';
import { priorityJobOptions } from './priority.js';

/**
 * The BullMQ side of the pipeline: three queues, job data that is references only (batch id and
 * chunk index, never patient data: job data sits in Redis in clear text and shows in dashboards),
 * and deterministic job ids so that adding a job twice is a no-op.
 */

export const QUEUE_NAMES = { ingest: 'ingest', trace: 'trace', assemble: 'assemble' } as const;
export type QueueName = keyof typeof QUEUE_NAMES;

export interface IngestJobData {
  batchId: string;
}
export interface TraceJobData {
  batchId: string;
  chunk: number;
}
export interface AssembleJobData {
  batchId: string;
}

export interface PipelineQueues {
  ingest: Queue<IngestJobData>;
  trace: Queue<TraceJobData>;
  assemble: Queue<AssembleJobData>;
  /** Rows traced so far in chunks still being traced (live-progress.ts). */
  live: LiveProgress;
  close(): Promise<void>;
}

/** Retries for failures of our own (a full disk, a lost file): SMSP retries happen per request. */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export function openQueues(connection: Redis, prefix: string): PipelineQueues {
  const options = { connection, prefix, defaultJobOptions: JOB_OPTIONS };
  const ingest = new Queue<IngestJobData>(QUEUE_NAMES.ingest, options);
  const trace = new Queue<TraceJobData>(QUEUE_NAMES.trace, options);
  const assemble = new Queue<AssembleJobData>(QUEUE_NAMES.assemble, options);
  return {
    ingest,
    trace,
    assemble,
    live: redisLiveProgress(connection as unknown as LiveProgressRedis, prefix),
    close: async () => {
      await Promise.all([ingest.close(), trace.close(), assemble.close()]);
    },
  };
}

// Job ids may not contain ':' nor be all digits (BullMQ job-ids guide); batch ids never are.
export const jobIds = {
  ingest: (batchId: string) => `ingest-${batchId}`,
  trace: (batchId: string, chunk: number) => `trace-${batchId}-${String(chunk).padStart(5, '0')}`,
  assemble: (batchId: string) => `assemble-${batchId}`,
};

export async function submitBatch(queues: PipelineQueues, meta: BatchMeta): Promise<void> {
  await queues.ingest.add('ingest', { batchId: meta.id }, { jobId: jobIds.ingest(meta.id), ...priorityJobOptions(meta.options) });
}

/** Chunk indexes of the batch whose results file exists. */
export async function doneChunks(dataDir: string, meta: BatchMeta): Promise<Set<number>> {
  const names = await readdir(batchPaths(dataDir, meta.id).resultsDir).catch(() => [] as string[]);
  return new Set(names.filter((n) => /^\d{5}\.jsonl$/.test(n)).map((n) => Number(n.slice(0, 5))));
}

/**
 * Adds the jobs an ingested batch still needs, judged from its folder alone: a trace job per chunk
 * without results, or the assemble job once every chunk has them. Safe to call any number of
 * times from any process (ids are deterministic), which is how `resume` rebuilds a batch after
 * Redis lost its queues.
 */
export async function enqueueRemaining(queues: PipelineQueues, dataDir: string, meta: BatchMeta): Promise<{ trace: number; assemble: boolean }> {
  if (meta.state !== 'ingested') return { trace: 0, assemble: false };
  const missing = await chunksWithoutResults(dataDir, meta);
  if (missing.length === 0) {
    await addAssembleJob(queues, meta);
    return { trace: 0, assemble: true };
  }
  await queues.trace.addBulk(
    missing.map((c) => ({ name: 'trace', data: { batchId: meta.id, chunk: c.index }, opts: { jobId: jobIds.trace(meta.id, c.index), ...priorityJobOptions(meta.options) } })),
  );
  return { trace: missing.length, assemble: false };
}

/**
 * What a finished trace job adds: the assemble job once every chunk has results, nothing before.
 * Each chunk's results are written before this looks, so of chunks finishing together the last to
 * look sees them all. (Adding every missing chunk's trace job again, as `resume` does, re-sent
 * the jobs of the whole rest of the batch to Redis after each chunk: work growing with the square
 * of the number of chunks, for jobs already queued.)
 */
export async function queueAssemblyIfDone(queues: PipelineQueues, dataDir: string, meta: BatchMeta): Promise<boolean> {
  if (meta.state !== 'ingested' || (await chunksWithoutResults(dataDir, meta)).length > 0) return false;
  await addAssembleJob(queues, meta);
  return true;
}

async function chunksWithoutResults(dataDir: string, meta: BatchMeta): Promise<Array<{ index: number }>> {
  const done = await doneChunks(dataDir, meta);
  return (meta.chunks ?? []).filter((c) => !done.has(c.index));
}

function addAssembleJob(queues: PipelineQueues, meta: BatchMeta): Promise<unknown> {
  return queues.assemble.add('assemble', { batchId: meta.id }, { jobId: jobIds.assemble(meta.id), ...priorityJobOptions(meta.options) });
}

/**
 * Removes the batch's jobs that no worker holds (waiting, delayed, finished): a job a worker is
 * running stays locked and cannot be removed, and its processor stops at its next row when it sees
 * the batch cancelled. Returns how many were removed.
 */
export async function removeBatchJobs(queues: PipelineQueues, meta: BatchMeta): Promise<number> {
  const jobs = await Promise.all([
    queues.ingest.getJob(jobIds.ingest(meta.id)),
    ...(meta.chunks ?? []).map((c) => queues.trace.getJob(jobIds.trace(meta.id, c.index))),
    queues.assemble.getJob(jobIds.assemble(meta.id)),
  ]);
  let removed = 0;
  for (const job of jobs) {
    if (!job) continue;
    // Locked by a worker: BullMQ refuses, and the worker ends it at its next row.
    if (await job.remove().then(() => true, () => false)) removed++;
  }
  return removed;
}

/** How the queue holds a batch's remaining chunks: BullMQ states counted, `missing` for no job. */
export type ChunkJobStates = Partial<Record<'active' | 'waiting' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' | 'failed' | 'missing' | 'unknown', number>>;

export async function chunkJobStates(queues: PipelineQueues, batchId: string, chunks: readonly number[]): Promise<ChunkJobStates> {
  const states: ChunkJobStates = {};
  for (const chunk of chunks) {
    const job = await queues.trace.getJob(jobIds.trace(batchId, chunk));
    const state = (job ? await job.getState() : 'missing') as keyof ChunkJobStates;
    states[state] = (states[state] ?? 0) + 1;
  }
  return states;
}
