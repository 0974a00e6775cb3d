import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loggerFor, type Logger } from '../log.js';
import type { BatchSummary } from '../csv/output/summary.js';
import { createBatch, type BatchMeta, type BatchOptions } from '../pipeline/batch.js';
import { submitBatch } from '../pipeline/queues.js';
import { BatchWatcher } from '../pipeline/watch-batch.js';
import { BatchProgress } from '../pipeline/progress.js';
import { runBatchEmbedded } from '../pipeline/run-embedded.js';
import { FALLBACKS, type Fallback } from '../pipeline/strategy.js';
import { TRACE_STATUSES } from '../domain/outcome.js';
import { startProgressDisplay } from './progress-bar.js';
import { checkSmspAnswers, configuredProvider, connectSmsp, SIMULATOR_NOTICE } from './smsp-connection.js';
import { describeProvider, isSimulated, type Provider } from '../pipeline/provider.js';
import { CliError, EXIT } from './errors.js';
import { checkRedisAnswers, openRedisRuntime, startLocalWorkers } from './redis-runtime.js';
import { signedInCommand, type CommandSession } from './session.js';
import { sweepAndAudit } from './work-file-sweep.js';
import { checkBeforeSubmitting } from './trace-preflight.js';
import { outputLines } from './output-words.js';

interface TraceFlags {
  out?: string;
  format: 'native' | 'mesh';
  mapping?: string;
  minimal?: boolean;
  user?: string;
  embedded?: boolean;
  worker?: boolean;
  fallback: Fallback[];
  bom?: boolean;
  monthFirst?: boolean;
  chunkSize: string;
  replace?: boolean;
}

/** Reasons that mean SMSP itself could not be reached, as opposed to one request failing. */
const UNREACHABLE = new Set(['connection_refused', 'tls_error', 'timeout', 'network_error', 'connection_reset', 'provider_busy']);

export function registerTraceCommand(program: Command): void {
  const command = program
    .command('trace')
    .description('trace every row of a CSV file against PDS and write results, audit and summary files')
    .argument('<file>', 'the CSV file to trace')
    .option('--out <dir>', 'folder for the output files (default: beside the input)')
    .addOption(new Option('--format <format>', 'results layout').choices(['native', 'mesh']).default('native'))
    .option('--mapping <file>', 'mapping file naming the column for each field')
    .option('--minimal', 'verify / find NHS numbers only (verifyNHSNumber, getNHSNumber), no demographics')
    .option('--user <id>', 'sign in as this user, who is accountable for the batch (same as --as)')
    .option('--embedded', 'run the whole batch in this process, without Redis, even when REDIS_URL is set')
    .option('--no-worker', 'with REDIS_URL: only submit and follow the batch; other worker processes trace it')
    .addOption(
      new Option('--fallback <step...>', 'opt-in relaxations, each raises the risk of a wrong match')
        .choices(Object.keys(FALLBACKS))
        .default([]),
    )
    .option('--bom', 'start CSV outputs with a UTF-8 byte order mark (for Excel)')
    .option('--month-first', 'read ambiguous dates such as 03/04/2001 as month first (default: day first, UK)')
    .option('--chunk-size <rows>', 'rows per trace job', '500')
    .option('--replace', 'replace the outputs of an earlier batch with the same file name in the output folder');
  signedInCommand(command, 'trace', (session, file: string, flags: TraceFlags) => traceFile(session, file, flags));
}

async function traceFile(session: CommandSession, file: string, flags: TraceFlags): Promise<void> {
  const { config } = session;
  // Before anything is made: a deployment with users and no provider chosen is a ConfigError.
  const provider = configuredProvider(config, session.unauthenticated);
  const logger = loggerFor(config);
  const chunkSize = Number(flags.chunkSize);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new CliError('--chunk-size must be a positive whole number', EXIT.usage);

  const options: BatchOptions = {
    format: flags.format,
    mappingFile: flags.mapping ? path.resolve(flags.mapping) : undefined,
    minimal: Boolean(flags.minimal),
    fallbacks: flags.fallback,
    user: session.principal.userId,
    roles: [...session.principal.roles],
    origin: config.smsp.auditIdentity.uri,
    outDir: flags.out ?? path.dirname(path.resolve(file)),
    bom: Boolean(flags.bom),
    dayFirst: !flags.monthFirst,
    chunkSize,
    replaceOutputs: Boolean(flags.replace),
  };

  await checkBeforeSubmitting(file, options, provider);
  const useRedis = Boolean(config.redisUrl) && !flags.embedded;
  // Before the batch exists: a Redis or an SMSP that does not answer, or TLS files that cannot be
  // used, end the command with nothing made. SMSP only if this process traces.
  if (useRedis) await checkRedisAnswers(config.redisUrl!);
  if (!useRedis || flags.worker !== false) await checkSmspAnswers(config, provider);

  // Ctrl+C (or SIGTERM): stop taking rows, keep finished chunks, and say the exact command that
  // finishes them, however the stop surfaced from the runner.
  const abort = new AbortController();
  let batchId: string | undefined;
  const onSignal = () => abort.abort(new CliError('interrupted', EXIT.interrupted));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const batch = await createBatch(config.dataDir, file, options, provider);
    batchId = batch.id;
    await session.record([{ kind: 'batch_submitted', batchId: batch.id, outcome: 'submitted', detail: `sha256=${batch.inputSha256}` }]);
    logger.info('batch created', { batchId: batch.id, inputSha256: batch.inputSha256 });
    process.stderr.write(`Batch ${batch.id}\n`);
    // Making and recording the batch take no signal: a Ctrl+C during them ends the command here.
    if (abort.signal.aborted) throw abort.signal.reason;
    const run = useRedis
      ? await runOnBullmq(session, logger, batch, provider, flags, abort.signal)
      : await runEmbedded(session, logger, batch, provider, abort.signal);
    // Finished batches past their retention lose their work files, this one too with retention 0.
    await sweepAndAudit(session, logger);
    await report(run.meta, run.url);
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    throw new CliError(
      batchId ? `interrupted: finished chunks are kept; run \`pds-trace resume ${batchId}\` to finish the batch` : 'interrupted before a batch was made: nothing was traced',
      EXIT.interrupted,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

interface FinishedRun {
  meta: BatchMeta;
  /** Where SMSP was reached, for the unreachable message. */
  url: string;
}

async function runEmbedded(session: CommandSession, logger: Logger, batch: BatchMeta, provider: Provider, signal: AbortSignal): Promise<FinishedRun> {
  const { config } = session;
  const connection = await connectSmsp(config, provider, logger, undefined, session.principal);
  if (connection.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
  const progress = new BatchProgress();
  const stopDisplay = startProgressDisplay(progress, process.stderr);
  try {
    const run = await runBatchEmbedded(config.dataDir, batch, {
      caller: connection.client,
      audit: session.audit,
      maxInFlight: config.smsp.maxInFlight,
      progress,
      signal,
    });
    return { meta: run.meta, url: connection.url };
  } finally {
    stopDisplay();
    await connection.close();
  }
}

/**
 * Submits the batch to the queues and follows it from its folder. Unless told otherwise this
 * process also works on the queues, so a lone `pds-trace trace` finishes; workers elsewhere help.
 */
async function runOnBullmq(session: CommandSession, logger: Logger, batch: BatchMeta, provider: Provider, flags: TraceFlags, signal: AbortSignal): Promise<FinishedRun> {
  const { config } = session;
  const runtime = await openRedisRuntime(config);
  const local =
    flags.worker === false
      ? undefined
      : await startLocalWorkers(config, logger, runtime, 2, session.audit, provider).catch(async (err: unknown) => {
          await runtime.close();
          throw err;
        });
  const watcher = new BatchWatcher(config.dataDir, batch.id);
  const stopDisplay = startProgressDisplay(watcher.progress, process.stderr);
  try {
    await submitBatch(runtime.queues, batch);
    const meta = await watcher.waitUntilFinished({ signal });
    return { meta, url: local?.smsp.url ?? describeProvider(provider) };
  } finally {
    stopDisplay();
    await local?.close(10_000);
    await runtime.close();
  }
}

async function report(meta: BatchMeta, url: string): Promise<void> {
  const simulated = isSimulated(meta.provider);
  if (meta.state === 'rejected') {
    throw new CliError(`The file was not traced: ${meta.rejection?.message ?? 'rejected'}`, EXIT.fileRejected);
  }
  const summary = JSON.parse(await readFile(meta.outputs!.summaryJson, 'utf8')) as BatchSummary;
  const out = process.stdout;
  out.write(`\nBatch ${meta.id}: ${summary.rows} rows${simulated ? ' (SIMULATOR, synthetic data)' : ''}\n`);
  for (const status of TRACE_STATUSES) out.write(`  ${status.padEnd(17)} ${summary.byStatus[status]}\n`);
  for (const line of outputLines(meta.outputs ?? {})) out.write(`${line}\n`);

  const traced = summary.rows - summary.byStatus.invalid_input;
  const unreachableReasons = Object.keys(summary.byReason).filter((r) => UNREACHABLE.has(r));
  const unreachable = unreachableReasons.reduce((n, r) => n + (summary.byReason[r] ?? 0), 0);
  if (traced > 0 && unreachable === traced) {
    throw new CliError(
      `SMSP could not be reached at ${url}: every request failed (${unreachableReasons.join(', ')}). The outputs list every row as error.`,
      EXIT.smspUnreachable,
    );
  }
}
