import type { Worker } from 'bullmq';
import { loadBatch } from '../pipeline/batch.js';
import type { PdsTraceMetrics } from './registry.js';

/**
 * Rows by final status and way in, and batch durations, counted once per batch by the process
 * whose assemble job finished it (the job's own return value: counts only).
 */
export function countAssembledBatches(metrics: PdsTraceMetrics, assembleWorker: Worker, dataDir: string): void {
  assembleWorker.on('completed', (job) => {
    const result = job.returnvalue as { byStatus?: Record<string, number> } | undefined;
    if (!result?.byStatus) return;
    void loadBatch(dataDir, (job.data as { batchId: string }).batchId)
      .then((meta) => {
        const wayIn = meta.options.wayIn ?? 'cli';
        for (const [status, rows] of Object.entries(result.byStatus!)) if (rows > 0) metrics.rows.inc({ status, way_in: wayIn }, rows);
        metrics.batchDuration.observe({ way_in: wayIn }, (Date.now() - Date.parse(meta.createdAt)) / 1000);
      })
      .catch(() => undefined);
  });
}
