import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AccessDeniedError } from '../auth/authorise.js';
import { permissionsOf } from '../auth/roles.js';
import type { BatchSummary } from '../csv/output/summary.js';
import { loggerFor } from '../log.js';
import { outputLines } from './output-words.js';
import { assembleBatch } from '../pipeline/assemble.js';
import { retryErrorRows } from '../pipeline/retry-errors.js';
import { runBatchEmbedded } from '../pipeline/run-embedded.js';
import { connectSmsp, providerForBatch, SIMULATOR_NOTICE } from './smsp-connection.js';
import { describeProvider } from '../pipeline/provider.js';
import { holdNotice } from '../pipeline/provider-hold.js';
import { BatchRecordMismatchError, listBatchIds, loadBatch, type BatchMeta } from '../pipeline/batch.js';
import { withActor } from '../pipeline/audit-sink.js';
import { assertBatchId } from '../pipeline/batch-id.js';
import { enqueueRemaining } from '../pipeline/queues.js';
import { formatRemoval, removeWorkFiles, requireWorkFiles } from '../pipeline/retention.js';
import { BatchWatcher } from '../pipeline/watch-batch.js';
import { CliError, EXIT } from './errors.js';
import { openRedisRuntime, sharedSmspLimiter } from './redis-runtime.js';
import { signedInCommand, type CommandSession } from './session.js';

/** Without batch.read.any, a user sees only the batches they submitted (MSCA-IG-01). */
function visibleTo(session: CommandSession, meta: BatchMeta): boolean {
  return permissionsOf(session.principal.roles).has('batch.read.any') || meta.options.user === session.principal.userId;
}

/** Counts of a batch whose work files are gone, from its summary (if it is still where it was written). */
async function summaryCounts(meta: BatchMeta): Promise<{ done: number; byStatus: Record<string, number> }> {
  if (!meta.outputs) return { done: 0, byStatus: {} };
  try {
    const summary = JSON.parse(await readFile(meta.outputs.summaryJson, 'utf8')) as BatchSummary;
    return { done: summary.rows, byStatus: summary.byStatus };
  } catch {
    return { done: 0, byStatus: {} };
  }
}

async function batchOrExplain(dataDir: string, id: string): Promise<BatchMeta> {
  // A path or a forged record is refused as such (batchCliError); anything else unreadable is no batch.
  assertBatchId(id);
  try {
    return await loadBatch(dataDir, id);
  } catch (err) {
    if (err instanceof BatchRecordMismatchError) throw err;
    throw new CliError(`no batch ${id} under ${dataDir} (see \`pds-trace status\`)`, EXIT.usage);
  }
}

function describe(meta: BatchMeta, done: number, byStatus: Record<string, number>): string {
  const counts = Object.entries(byStatus).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ');
  const rows = meta.rows === undefined ? '?' : String(meta.rows);
  return `${meta.id}  ${meta.state.padEnd(9)} ${String(done).padStart(7)}/${rows.padEnd(7)} ${meta.name}  ${counts}`;
}

export function registerBatchCommands(program: Command): void {
  signedInCommand(
    program
      .command('status')
      .description('list batches with their progress and counts by status, or one batch in detail')
      .argument('[batch]', 'a batch id'),
    'status',
    async (session, id?: string) => {
      const { config } = session;
      const ids = id ? [id] : await listBatchIds(config.dataDir);
      if (ids.length === 0) process.stdout.write(`no batches under ${config.dataDir}\n`);
      for (const batchId of ids) {
        const stored = await batchOrExplain(config.dataDir, batchId);
        if (!visibleTo(session, stored)) {
          if (id) {
            await session.record([{ kind: 'access_denied', batchId: id, outcome: 'refused', detail: 'command=status' }]);
            throw new CliError(`batch ${id} was submitted by another user`, EXIT.denied);
          }
          continue;
        }
        const watcher = new BatchWatcher(config.dataDir, batchId);
        const meta = await watcher.poll();
        const counts = meta.workFilesRemoved ? await summaryCounts(meta) : watcher.progress;
        process.stdout.write(`${describe(meta, counts.done, counts.byStatus)}\n`);
        // Shown in the list too: a held batch looks stuck, and this says why.
        if (watcher.hold) process.stdout.write(`  ${holdNotice(watcher.hold)} (since ${watcher.hold.since})\n`);
        if (id) process.stdout.write(`  provider       ${describeProvider(meta.provider)}\n`);
        if (id && meta.rejection) process.stdout.write(`  rejected: ${meta.rejection.message}\n`);
        if (id && meta.workFilesRemoved) process.stdout.write(`  work files removed ${formatRemoval(meta.workFilesRemoved)}\n`);
        if (id && meta.outputs) for (const line of outputLines(meta.outputs)) process.stdout.write(`${line}\n`);
      }
    },
  );

  signedInCommand(
    program
      .command('resume')
      .description('finish an interrupted batch from its folder: re-queue its jobs (REDIS_URL) or run the rest here')
      .argument('<batch>', 'a batch id')
      .option('--embedded', 'finish the batch in this process even when REDIS_URL is set'),
    'resume',
    async (session, id: string, flags: { embedded?: boolean }) => {
      const { config } = session;
      const meta = await batchOrExplain(config.dataDir, id);
      requireWorkFiles(meta, 'resumed');
      if (meta.state === 'assembled' || meta.state === 'rejected') {
        process.stdout.write(`batch ${id} is already ${meta.state}: nothing to resume\n`);
        return;
      }
      await session.record([{ kind: 'batch_resumed', batchId: id, outcome: flags.embedded || !config.redisUrl ? 'embedded' : 'queued' }]);
      if (!config.redisUrl || flags.embedded) {
        // Chunks with results are skipped, so only the unfinished rows are traced.
        const provider = providerForBatch(meta, config, session.unauthenticated);
        const logger = loggerFor(config);
        const smsp = await connectSmsp(config, provider, logger);
        if (smsp.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
        try {
          const run = await runBatchEmbedded(config.dataDir, meta, { caller: smsp.client, audit: withActor(session.audit, session.principal.userId), maxInFlight: config.smsp.maxInFlight });
          process.stdout.write(`batch ${id}: ${run.meta.state}\n`);
          for (const line of outputLines(run.meta.outputs ?? {})) process.stdout.write(`${line}\n`);
        } finally {
          await smsp.close();
        }
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
    },
  );

  signedInCommand(
    program
      .command('retry')
      .description('trace again only the rows of a finished batch that ended as error, and rewrite its outputs')
      .argument('<batch>', 'a batch id'),
    'retry',
    async (session, id: string) => {
      const { config } = session;
      const logger = loggerFor(config);
      const meta = await batchOrExplain(config.dataDir, id);
      requireWorkFiles(meta, 'retried');
      if (meta.state !== 'assembled') throw new CliError(`batch ${id} is ${meta.state}: only a finished batch can be retried (see \`pds-trace resume\`)`, EXIT.usage);
      const provider = providerForBatch(meta, config, session.unauthenticated);
      await session.record([{ kind: 'batch_retried', batchId: id, outcome: 'started' }]);
      // With Redis, share the global SMSP limit with any workers running.
      const runtime = config.redisUrl ? await openRedisRuntime(config) : undefined;
      const smsp = await connectSmsp(config, provider, logger, runtime ? sharedSmspLimiter(config, runtime) : undefined);
      if (smsp.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
      try {
        const { retried, stillErrors } = await retryErrorRows(config.dataDir, meta, smsp.client, { maxInFlight: config.smsp.maxInFlight, audit: withActor(session.audit, session.principal.userId) });
        if (retried > 0) await assembleBatch(config.dataDir, meta, { startedAt: new Date(meta.createdAt), auditHead: () => session.audit.currentHead() });
        process.stdout.write(`batch ${id}: ${retried} error row(s) traced again, ${stillErrors} still error; outputs rewritten\n`);
      } finally {
        await smsp.close();
        await runtime?.close();
      }
    },
  );

  signedInCommand(
    program
      .command('purge')
      .description("remove a finished batch's work files (its input copy, chunks and results: patient data) now; batch.json and the outputs stay")
      .argument('<batch>', 'a batch id'),
    'purge',
    async (session, id: string) => {
      const { config, principal } = session;
      const meta = await batchOrExplain(config.dataDir, id);
      // The rule lets in batch.submit too; with it alone, only the batch's submitter may purge it.
      if (!permissionsOf(principal.roles).has('batch.purge.any') && meta.options.user !== principal.userId) {
        await session.record([{ kind: 'access_denied', batchId: id, outcome: 'refused', detail: 'command=purge' }]);
        throw new CliError(new AccessDeniedError(principal.userId, ['batch.purge.any'], `batch ${id}`).message, EXIT.denied);
      }
      if (meta.workFilesRemoved) {
        process.stdout.write(`batch ${id}: work files already removed ${formatRemoval(meta.workFilesRemoved)}\n`);
        return;
      }
      const purged = await removeWorkFiles(config.dataDir, meta, { by: principal.userId });
      await session.record([{ kind: 'work_files_removed', batchId: id, outcome: 'purged' }]);
      process.stdout.write(`batch ${id}: work files removed ${formatRemoval(purged.workFilesRemoved!)}; batch.json and the outputs are kept\n`);
    },
  );
}
