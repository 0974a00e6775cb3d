import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { loadBatch, type BatchMeta } from '../pipeline/batch.js';
import { enqueueRemaining } from '../pipeline/queues.js';
import { BatchWatcher } from '../pipeline/watch-batch.js';
import { CliError, EXIT } from './errors.js';
import { openRedisRuntime } from './redis-runtime.js';

async function listBatchIds(dataDir: string): Promise<string[]> {
  const names = await readdir(path.join(dataDir, 'batches')).catch(() => [] as string[]);
  return names.sort();
}

async function batchOrExplain(dataDir: string, id: string): Promise<BatchMeta> {
  try {
    return await loadBatch(dataDir, id);
  } catch {
    throw new CliError(`no batch ${id} under ${dataDir} (see \`pds-trace status\`)`, EXIT.usage);
  }
}

function describe(meta: BatchMeta, done: number, byStatus: Record<string, number>): string {
  const counts = Object.entries(byStatus).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ');
  const rows = meta.rows === undefined ? '?' : String(meta.rows);
  return `${meta.id}  ${meta.state.padEnd(9)} ${String(done).padStart(7)}/${rows.padEnd(7)} ${meta.name}  ${counts}`;
}

export function registerBatchCommands(program: Command): void {
  program
    .command('status')
    .description('list batches with their progress and counts by status, or one batch in detail')
    .argument('[batch]', 'a batch id')
    .action(async (id?: string) => {
      const config = loadConfig();
      const ids = id ? [id] : await listBatchIds(config.dataDir);
      if (ids.length === 0) process.stdout.write(`no batches under ${config.dataDir}\n`);
      for (const batchId of ids) {
        await batchOrExplain(config.dataDir, batchId);
        const watcher = new BatchWatcher(config.dataDir, batchId);
        const meta = await watcher.poll();
        process.stdout.write(`${describe(meta, watcher.progress.done, watcher.progress.byStatus)}\n`);
        if (id && meta.rejection) process.stdout.write(`  rejected: ${meta.rejection.message}\n`);
        if (id && meta.outputs) for (const [k, v] of Object.entries(meta.outputs)) process.stdout.write(`  ${k.padEnd(12)} ${v}\n`);
      }
    });

  program
    .command('resume')
    .description('rebuild the queue jobs of an unfinished batch from its folder (after a crash or a Redis restart)')
    .argument('<batch>', 'a batch id')
    .action(async (id: string) => {
      const config = loadConfig();
      const meta = await batchOrExplain(config.dataDir, id);
      if (meta.state === 'assembled' || meta.state === 'rejected') {
        process.stdout.write(`batch ${id} is already ${meta.state}: nothing to resume\n`);
        return;
      }
      const runtime = await openRedisRuntime(config);
      try {
        if (meta.state === 'created') {
          await runtime.queues.ingest.add('ingest', { batchId: id }, { jobId: `ingest-${id}-resumed-${Date.now()}` });
          process.stdout.write(`batch ${id}: ingest queued again\n`);
        } else {
          const queued = await enqueueRemaining(runtime.queues, config.dataDir, meta);
          process.stdout.write(`batch ${id}: ${queued.trace} trace job(s)${queued.assemble ? ' and the assembly' : ''} queued\n`);
        }
      } finally {
        await runtime.close();
      }
    });
}
