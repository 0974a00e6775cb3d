import type { Command } from 'commander';
import { AccessDeniedError, requireBatchControl } from '../auth/authorise.js';
import { permissionsOf } from '../auth/roles.js';
import { loggerFor } from '../log.js';
import { assertRetryable, planResume, retryBatch } from '../pipeline/batch-actions.js';
import { runBatchEmbedded } from '../pipeline/run-embedded.js';
import { configuredProvider, connectSmsp, providerForBatch, SIMULATOR_NOTICE } from './smsp-connection.js';
import { holdNotice } from '../pipeline/provider-hold.js';
import { BatchRecordMismatchError, listBatchIds, loadBatch, type BatchMeta } from '../pipeline/batch.js';
import { withActor } from '../pipeline/audit-sink.js';
import { assertBatchId } from '../pipeline/batch-id.js';
import { cancelBatch, cancellationEvent } from '../pipeline/cancel.js';
import { BatchProgress } from '../pipeline/progress.js';
import { enqueueRemaining, removeBatchJobs } from '../pipeline/queues.js';
import { formatRemoval, removeWorkFiles } from '../pipeline/retention.js';
import { BatchWatcher, hasEnded } from '../pipeline/watch-batch.js';
import { batchStatusReport, formatStatusReport, statusLine, type QueueView } from './batch-status.js';
import { CliError, EXIT } from './errors.js';
import { startProgressDisplay } from './progress-bar.js';
import { openRedisRuntime, sharedSmspLimiter, startLocalWorkers, type RedisRuntime } from './redis-runtime.js';
import { signedInCommand, type CommandSession } from './session.js';

/** Without batch.read.any, a user sees only the batches they submitted (MSCA-IG-01). */
function visibleTo(session: CommandSession, meta: BatchMeta): boolean {
  return permissionsOf(session.principal.roles).has('batch.read.any') || meta.options.user === session.principal.userId;
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

/** `resume`, `retry`, `cancel`: the batch's submitter, or an operator; a refusal is audited. */
async function requireControl(session: CommandSession, meta: BatchMeta, command: string): Promise<void> {
  try {
    requireBatchControl(session.principal, { id: meta.id, user: meta.options.user });
  } catch (err) {
    if (!(err instanceof AccessDeniedError)) throw err;
    await session.record([{ kind: 'access_denied', batchId: meta.id, outcome: 'refused', detail: `command=${command}` }]);
    throw new CliError(`${err.message} (it was submitted by another user)`, EXIT.denied);
  }
}

/** The queue as `status` sees it: without REDIS_URL none; with it, Redis answering or not, said so. */
async function openQueueView(session: CommandSession): Promise<{ view: QueueView; runtime?: RedisRuntime }> {
  if (!session.config.redisUrl) return { view: { kind: 'none' } };
  try {
    const runtime = await openRedisRuntime(session.config);
    return { view: { kind: 'queues', queues: runtime.queues }, runtime };
  } catch (err) {
    if (err instanceof CliError) return { view: { kind: 'unreachable', message: err.message } };
    throw err;
  }
}

/** How a batch followed to its end ends the command: 0 assembled, 4 rejected, 7 cancelled. */
function endedExit(meta: BatchMeta): void {
  if (meta.state === 'rejected') throw new CliError(`batch ${meta.id}: the file was not traced: ${meta.rejection?.message ?? 'rejected'}`, EXIT.fileRejected);
  if (meta.state === 'cancelled') throw new CliError(`batch ${meta.id} was cancelled by ${meta.cancelled?.by ?? '?'} at ${meta.cancelled?.at ?? '?'}: no outputs were written`, EXIT.cancelled);
}

/** A progress display's stop, safe to call twice (once to print after it, once on the way out). */
function displayProgress(progress: BatchProgress): () => void {
  const stop = startProgressDisplay(progress, process.stderr);
  let stopped = false;
  return () => {
    if (!stopped) stop();
    stopped = true;
  };
}

const FOLLOW_INTERVAL_MS = 500;
/** `status --follow --json`: one report a line this often. */
const JSON_FOLLOW_INTERVAL_MS = 2000;

async function showStatus(session: CommandSession, id: string, flags: { follow?: boolean; json?: boolean }): Promise<void> {
  const { config } = session;
  const stored = await batchOrExplain(config.dataDir, id);
  if (!visibleTo(session, stored)) {
    await session.record([{ kind: 'access_denied', batchId: id, outcome: 'refused', detail: 'command=status' }]);
    throw new CliError(`batch ${id} was submitted by another user`, EXIT.denied);
  }
  const { view, runtime } = await openQueueView(session);
  try {
    const watcher = new BatchWatcher(config.dataDir, id, view.kind === 'queues' ? view.queues.live : undefined);
    const print = async () => {
      const report = await batchStatusReport(config.dataDir, watcher, view);
      process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : formatStatusReport(report));
      return report;
    };
    if (!flags.follow) {
      await print();
      return;
    }
    let meta = await watcher.poll();
    const stopDisplay = flags.json ? undefined : displayProgress(watcher.progress);
    let lastJson = 0;
    try {
      while (!hasEnded(meta)) {
        await new Promise((r) => setTimeout(r, FOLLOW_INTERVAL_MS));
        meta = await watcher.poll();
        if (flags.json && Date.now() - lastJson >= JSON_FOLLOW_INTERVAL_MS && !hasEnded(meta)) {
          lastJson = Date.now();
          await print();
        }
      }
    } finally {
      stopDisplay?.();
    }
    await print();
    endedExit(meta);
  } finally {
    await runtime?.close();
  }
}

async function listStatus(session: CommandSession, flags: { json?: boolean }): Promise<void> {
  const { config } = session;
  const ids = await listBatchIds(config.dataDir);
  if (ids.length === 0 && !flags.json) process.stdout.write(`no batches under ${config.dataDir}\n`);
  const reports = [];
  for (const batchId of ids) {
    const meta = await batchOrExplain(config.dataDir, batchId);
    if (!visibleTo(session, meta)) continue;
    const watcher = new BatchWatcher(config.dataDir, batchId);
    const report = await batchStatusReport(config.dataDir, watcher, { kind: 'none' });
    if (flags.json) {
      reports.push(report);
      continue;
    }
    process.stdout.write(`${statusLine(report)}\n`);
    // Shown in the list too: a held batch looks stuck, and this says why.
    if (watcher.hold) process.stdout.write(`  ${holdNotice(watcher.hold)} (since ${watcher.hold.since})\n`);
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
}

interface ResumeFlags {
  embedded?: boolean;
  wait?: boolean;
  worker?: boolean;
}

async function resume(session: CommandSession, id: string, flags: ResumeFlags): Promise<void> {
  const { config } = session;
  const meta = await batchOrExplain(config.dataDir, id);
  await requireControl(session, meta, 'resume');
  // Refusals (cancelled, work files removed) are usage errors (batchCliError).
  const plan = planResume(meta);
  if (plan.kind === 'nothing') {
    process.stdout.write(`batch ${id} is already ${plan.state}: nothing to resume\n`);
    return;
  }
  const embedded = flags.embedded || !config.redisUrl;
  if (embedded && flags.wait === false) {
    throw new CliError('--no-wait needs the queue (REDIS_URL): without it, resume traces the batch in this process', EXIT.usage);
  }
  if (embedded) {
    // Checked before anything is recorded: a batch for another provider is not traced here.
    const provider = providerForBatch(meta, config, session.unauthenticated);
    await session.record([{ kind: 'batch_resumed', batchId: id, outcome: 'embedded' }]);
    await resumeEmbedded(session, meta, provider);
    return;
  }
  // This process's workers trace only batches for its own provider (others wait for theirs); a
  // configuration that names none stops here, before anything is queued or recorded.
  const workerProvider = flags.wait === false || flags.worker === false ? undefined : configuredProvider(config, session.unauthenticated);
  // Redis not answering ends the command here, within seconds, naming REDIS_URL (exit 3).
  const runtime = await openRedisRuntime(config);
  try {
    await session.record([{ kind: 'batch_resumed', batchId: id, outcome: 'queued' }]);
    if (meta.state === 'created') {
      await runtime.queues.ingest.add('ingest', { batchId: id }, { jobId: `ingest-${id}-resumed-${Date.now()}` });
      process.stderr.write(`batch ${id}: ingest queued again\n`);
    } else {
      const queued = await enqueueRemaining(runtime.queues, config.dataDir, meta);
      process.stderr.write(`batch ${id}: ${queued.trace} trace job(s)${queued.assemble ? ' and the assembly' : ''} queued\n`);
    }
    if (flags.wait === false) {
      process.stdout.write(`batch ${id} is queued; follow it with \`pds-trace status ${id} --follow\`\n`);
      return;
    }
    const logger = loggerFor(config);
    const local = workerProvider && (await startLocalWorkers(config, logger, runtime, 2, withActor(session.audit, session.principal.userId), workerProvider));
    const watcher = new BatchWatcher(config.dataDir, id, runtime.queues.live);
    const stopDisplay = displayProgress(watcher.progress);
    try {
      const ended = await watcher.waitUntilFinished();
      stopDisplay();
      process.stdout.write(formatStatusReport(await batchStatusReport(config.dataDir, watcher, { kind: 'queues', queues: runtime.queues })));
      endedExit(ended);
    } finally {
      stopDisplay();
      await local?.close(10_000);
    }
  } finally {
    await runtime.close();
  }
}

async function resumeEmbedded(session: CommandSession, meta: BatchMeta, provider: ReturnType<typeof providerForBatch>): Promise<void> {
  const { config } = session;
  // Chunks with results are skipped, so only the unfinished rows are traced.
  const smsp = await connectSmsp(config, provider, loggerFor(config));
  if (smsp.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
  const progress = new BatchProgress();
  const stopDisplay = displayProgress(progress);
  try {
    const run = await runBatchEmbedded(config.dataDir, meta, { caller: smsp.client, audit: withActor(session.audit, session.principal.userId), maxInFlight: config.smsp.maxInFlight, progress });
    stopDisplay();
    process.stdout.write(formatStatusReport(await batchStatusReport(config.dataDir, new BatchWatcher(config.dataDir, meta.id), { kind: 'none' })));
    endedExit(run.meta);
  } finally {
    stopDisplay();
    await smsp.close();
  }
}

async function cancel(session: CommandSession, id: string): Promise<void> {
  const { config, principal } = session;
  const meta = await batchOrExplain(config.dataDir, id);
  await requireControl(session, meta, 'cancel');
  if (meta.state === 'cancelled') {
    process.stdout.write(`batch ${id} was already cancelled by ${meta.cancelled?.by ?? '?'} at ${meta.cancelled?.at ?? '?'}\n`);
    return;
  }
  const cancelled = await cancelBatch(config.dataDir, meta, principal.userId);
  const watcher = new BatchWatcher(config.dataDir, id);
  await watcher.poll();
  const done = `${watcher.progress.done} of ${meta.rows ?? '?'} rows`;
  await session.record([cancellationEvent(meta, watcher.progress.done)]);
  let jobs = '';
  if (config.redisUrl) {
    // Tidying only: every stage already skips a cancelled batch, so a Redis that does not answer
    // leaves its jobs to be dropped as workers reach them.
    const { view, runtime } = await openQueueView(session);
    try {
      if (view.kind === 'queues') {
        const removed = await removeBatchJobs(view.queues, cancelled);
        await view.queues.live.clear(id);
        jobs = ` ${removed} queued job(s) removed;`;
      } else if (view.kind === 'unreachable') {
        jobs = ` its queued jobs stay until workers reach them (${view.message});`;
      }
    } finally {
      await runtime?.close();
    }
  }
  process.stdout.write(
    `batch ${id} cancelled: ${done} were traced and are kept;${jobs} a chunk being traced stops at its next row and writes nothing; ` +
      'no outputs will be written. Submit the file again to trace it.\n',
  );
}

export function registerBatchCommands(program: Command): void {
  signedInCommand(
    program
      .command('status')
      .description('list batches with their progress and counts by status, or one batch in full')
      .argument('[batch]', 'a batch id')
      .option('--follow', 'with a batch: follow it live until it ends (exit 0 finished, 4 rejected, 7 cancelled)')
      .option('--json', 'the same as JSON (with --follow: one line every 2 s and at the end)'),
    'status',
    async (session, id: string | undefined, flags: { follow?: boolean; json?: boolean }) => {
      if (id) return showStatus(session, id, flags);
      if (flags.follow) throw new CliError('--follow needs a batch id: pds-trace status <batch> --follow', EXIT.usage);
      return listStatus(session, flags);
    },
  );

  signedInCommand(
    program
      .command('resume')
      .description('finish an interrupted batch from its folder, showing progress until it ends: re-queue its jobs (REDIS_URL) or run the rest here')
      .argument('<batch>', 'a batch id')
      .option('--embedded', 'finish the batch in this process even when REDIS_URL is set')
      .option('--no-wait', 'with REDIS_URL: queue its jobs and return at once (follow with `status <batch> --follow`)')
      .option('--no-worker', 'with REDIS_URL: do not work on the queues in this process, only follow'),
    'resume',
    (session, id: string, flags: ResumeFlags) => resume(session, id, flags),
  );

  signedInCommand(
    program
      .command('cancel')
      .description('stop a batch for good: nothing more is traced, no outputs are written, what was traced is kept')
      .argument('<batch>', 'a batch id'),
    'cancel',
    (session, id: string) => cancel(session, id),
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
      await requireControl(session, meta, 'retry');
      assertRetryable(meta);
      const provider = providerForBatch(meta, config, session.unauthenticated);
      await session.record([{ kind: 'batch_retried', batchId: id, outcome: 'started' }]);
      // With Redis, share the global SMSP limit with any workers running.
      const runtime = config.redisUrl ? await openRedisRuntime(config) : undefined;
      const smsp = await connectSmsp(config, provider, logger, runtime ? sharedSmspLimiter(config, runtime) : undefined);
      if (smsp.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
      try {
        const { retried, stillErrors } = await retryBatch(config.dataDir, meta, smsp.client, { maxInFlight: config.smsp.maxInFlight, audit: withActor(session.audit, session.principal.userId) });
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
