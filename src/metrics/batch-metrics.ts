import { readFile } from 'node:fs/promises';
import type { Worker } from 'bullmq';
import type { BatchRunner, RunningBatch } from '../intake/runners.js';
import { loadBatch, type BatchMeta } from '../pipeline/batch.js';
import type { PdsTraceMetrics } from './registry.js';

/**
 * Rows by final status and way in, and batch durations, counted once per batch by the process
 * that finished it: the one whose assemble job ran (queues), or the one that traced it (embedded).
 * Counts only, from the assemble job's return value or the batch summary.
 */
function record(metrics: PdsTraceMetrics, meta: BatchMeta, byStatus: Readonly<Record<string, number>>): void {
  const wayIn = meta.options.wayIn ?? 'cli';
  for (const [status, rows] of Object.entries(byStatus)) if (rows > 0) metrics.rows.inc({ status, way_in: wayIn }, rows);
  const finished = meta.finishedAt ? Date.parse(meta.finishedAt) : Date.now();
  metrics.batchDuration.observe({ way_in: wayIn }, (finished - Date.parse(meta.createdAt)) / 1000);
}

export function countAssembledBatches(metrics: PdsTraceMetrics, assembleWorker: Worker, dataDir: string): void {
  assembleWorker.on('completed', (job) => {
    const result = job.returnvalue as { byStatus?: Record<string, number> } | undefined;
    if (!result?.byStatus) return;
    void loadBatch(dataDir, (job.data as { batchId: string }).batchId)
      .then((meta) => record(metrics, meta, result.byStatus!))
      .catch(() => undefined);
  });
}

/** `runner` (the embedded one) with each batch it finishes counted from the batch's summary. */
export function withBatchMetrics(runner: BatchRunner, metrics: PdsTraceMetrics): BatchRunner {
  const counted = (running: RunningBatch): RunningBatch => {
    void running.finished
      .then(async (meta) => {
        if (meta.state !== 'assembled' || !meta.outputs) return;
        const summary = JSON.parse(await readFile(meta.outputs.summaryJson, 'utf8')) as { byStatus?: Record<string, number> };
        if (summary.byStatus) record(metrics, meta, summary.byStatus);
      })
      .catch(() => undefined);
    return running;
  };
  return {
    kind: runner.kind,
    start: async (batch, signal) => counted(await runner.start(batch, signal)),
    resume: async (batch, signal) => counted(await runner.resume(batch, signal)),
  };
}
