import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createBatch, type BatchMeta } from '../src/pipeline/batch.js';
import { PRIORITY_OF, type WayIn } from '../src/pipeline/priority.js';
import { smspProvider } from '../src/pipeline/provider.js';
import { doneChunks, jobIds, openQueues, submitBatch, type PipelineQueues } from '../src/pipeline/queues.js';
import { BatchWatcher } from '../src/pipeline/watch-batch.js';
import { writeCohort } from '../src/simulator/cohort.js';
import { provisionServiceAccount } from '../test/support/accounts.js';
import { closeQueues, node, POPULATION, smspEnv, startSimulatorProcess, waitForOutput } from './pipeline.js';

/**
 * Priority classes at the SMSP limit (issue 16, ARCHITECTURE property 10): BullMQ worker processes
 * trace a large bulk batch (a watched folder's) at the SMSP limit; an analyst's small interactive
 * batch (the CLI's) submitted mid-way must finish in at most twice its time alone. Its time alone
 * is measured first, on the same idle workers, and both are timed from submission to assembled
 * outputs, as the analyst waits. The bulk batch's own time is shown too: slowed, never starved.
 */

export interface PriorityBenchOptions {
  bulkRows: number;
  interactiveRows: number;
  /** Worker processes, each running `traceConcurrency` chunks at once. */
  workers: number;
  traceConcurrency: number;
  maxInFlight: number;
  latencyMs: number;
  maxRatePerSecond: number;
  chunkSize: number;
  /** Interactive runs timed alone, and again while the bulk batch runs: the medians are compared. */
  repeats: number;
  dir: string;
  redisUrl: string;
  clientNodeArgs?: string[];
}

export interface PriorityBenchResult {
  /** Seconds from submission to assembled, each run. */
  alone: number[];
  midway: number[];
  /** How far the bulk batch was (fraction of chunks traced) as each mid-way run was submitted. */
  bulkDoneAt: number[];
  bulkSeconds: number;
  ratio: number;
  /** The bound the issue sets: mid-way at most twice alone. */
  bound: number;
  passed: boolean;
  /** Where each interactive batch's time went, job by job (queued → started → finished, seconds from submission). */
  phases: string[];
}

export const PRIORITY_BOUND = 2;

export const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export async function benchPriority(o: PriorityBenchOptions): Promise<PriorityBenchResult> {
  const simulator = await startSimulatorProcess(o.dir, o.latencyMs);
  const prefix = `pds-trace-bench-${randomUUID().slice(0, 8)}`;
  const dataDir = path.join(o.dir, 'data');
  const env: Record<string, string> = {
    ...smspEnv(simulator, o.maxInFlight),
    SMSP_MAX_RATE: String(o.maxRatePerSecond),
    PDS_TRACE_DATA_DIR: dataDir,
    REDIS_PREFIX: prefix,
    REDIS_URL: o.redisUrl,
    ...(await provisionServiceAccount(dataDir)),
  };
  const bulkCohort = await writeCohort({ ...POPULATION, rows: o.bulkRows, outDir: o.dir, name: 'bulk' });
  const interactiveCohort = await writeCohort({ ...POPULATION, rows: o.interactiveRows, outDir: o.dir, name: 'interactive' });
  const children: ChildProcess[] = [];
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queues = openQueues(redis, prefix);
  let made = 0;
  const submit = async (csvPath: string, wayIn: WayIn): Promise<{ batch: BatchMeta; submittedAt: number }> => {
    const options = { format: 'native' as const, minimal: false, fallbacks: [], user: 'bench', roles: ['tracer'], bom: false, dayFirst: true, chunkSize: o.chunkSize };
    // Each batch its own output folder: outputs are named after the input file.
    const batch = await createBatch(dataDir, csvPath, { ...options, outDir: path.join(o.dir, 'out', String(made++)), wayIn, priority: PRIORITY_OF[wayIn] }, smspProvider(simulator.url));
    const submittedAt = performance.now();
    await submitBatch(queues, batch);
    return { batch, submittedAt };
  };
  const finished = async ({ batch, submittedAt }: { batch: BatchMeta; submittedAt: number }) => {
    const meta = await new BatchWatcher(dataDir, batch.id).waitUntilFinished({ intervalMs: 20 });
    if (meta.state !== 'assembled') throw new Error(`batch ${batch.id} ended ${meta.state}`);
    return (performance.now() - submittedAt) / 1000;
  };
  const phases: string[] = [];
  const interactive = async () => {
    const submitted = await submit(interactiveCohort.csvPath, 'cli');
    const seconds = await finished(submitted);
    phases.push(await jobPhases(queues, submitted.batch.id, submitted.submittedAt));
    return seconds;
  };
  try {
    for (let i = 0; i < o.workers; i++) {
      const child = node(['worker', '--concurrency', String(o.traceConcurrency)], env, o.clientNodeArgs);
      children.push(child);
      await waitForOutput(child, /worker running/);
    }
    // The first batch opens connections and warms the code: not counted.
    await interactive();
    const alone: number[] = [];
    for (let i = 0; i < o.repeats; i++) alone.push(await interactive());

    const bulk = await submit(bulkCohort.csvPath, 'watch');
    const bulkFinished = finished(bulk);
    const progress = async () => {
      const meta = await new BatchWatcher(dataDir, bulk.batch.id).poll();
      return meta.state === 'ingested' && meta.chunks ? (await doneChunks(dataDir, meta)).size / meta.chunks.length : meta.state === 'assembled' ? 1 : 0;
    };
    // Mid-way: from a third of the bulk batch on, one interactive batch after another.
    while ((await progress()) < 1 / 3) await new Promise((r) => setTimeout(r, 200));
    const midway: number[] = [];
    const bulkDoneAt: number[] = [];
    for (let i = 0; i < o.repeats; i++) {
      const at = await progress();
      if (at >= 0.9) break;
      bulkDoneAt.push(at);
      midway.push(await interactive());
    }
    if (midway.length === 0) throw new Error('the bulk batch finished before an interactive batch could be timed beside it: give it more rows');
    const bulkSeconds = await bulkFinished;
    const ratio = median(midway) / median(alone);
    return { alone, midway, bulkDoneAt, bulkSeconds, ratio, bound: PRIORITY_BOUND, passed: ratio <= PRIORITY_BOUND, phases };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await closeQueues(queues, redis, prefix);
    await simulator.stop();
  }
}

/** `ingest 0.01→0.20 trace 0.25→1.10 assemble 1.12→1.30`: when each job started and ended, from submission. */
async function jobPhases(queues: PipelineQueues, batchId: string, submittedAt: number): Promise<string> {
  const origin = performance.timeOrigin + submittedAt;
  const span = (job: { processedOn?: number; finishedOn?: number } | undefined) =>
    job?.processedOn && job.finishedOn ? `${((job.processedOn - origin) / 1000).toFixed(2)}→${((job.finishedOn - origin) / 1000).toFixed(2)}` : '?';
  const [ingest, trace, assemble] = await Promise.all([queues.ingest.getJob(jobIds.ingest(batchId)), queues.trace.getJob(jobIds.trace(batchId, 0)), queues.assemble.getJob(jobIds.assemble(batchId))]);
  return `ingest ${span(ingest)} trace ${span(trace)} assemble ${span(assemble)}`;
}
