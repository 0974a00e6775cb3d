import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loggerFor, type Logger } from '../log.js';
import type { BatchSummary } from '../csv/output/summary.js';
import type { BatchMeta } from '../pipeline/batch.js';
import { DuplicateInputError } from '../intake/duplicate-check.js';
import { embeddedRunner, queueRunner, usesQueues, type BatchRunner, type RunningBatch } from '../intake/runners.js';
import { submit, type TraceOptions } from '../intake/submit.js';
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
import { outputLines } from '../pipeline/output-words.js';

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
  again?: boolean;
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
    .option('--replace', 'replace the outputs of an earlier batch with the same file name in the output folder')
    .option('--again', 'trace the file even though the same bytes were traced recently or are being traced');
  signedInCommand(command, 'trace', (session, file: string, flags: TraceFlags) => traceFile(session, file, flags));
}

async function traceFile(session: CommandSession, file: string, flags: TraceFlags): Promise<void> {
  const { config } = session;
  // Before anything is made: a deployment with users and no provider chosen is a ConfigError.
  const provider = configuredProvider(config, session.unauthenticated);
  const logger = loggerFor(config);
  const chunkSize = Number(flags.chunkSize);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new CliError('--chunk-size must be a positive whole number', EXIT.usage);

  const options: TraceOptions = {
    format: flags.format,
    mappingFile: flags.mapping ? path.resolve(flags.mapping) : undefined,
    minimal: Boolean(flags.minimal),
    fallbacks: flags.fallback,
    outDir: flags.out ?? path.dirname(path.resolve(file)),
    bom: Boolean(flags.bom),
    dayFirst: !flags.monthFirst,
    chunkSize,
    replaceOutputs: Boolean(flags.replace),
  };

  await checkBeforeSubmitting(file, options, provider);
  const useRedis = usesQueues(config.redisUrl, { embedded: flags.embedded });
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
    const submitTo: SubmitTo = (runner) =>
      submitFile(session, logger, provider, { file, options, again: Boolean(flags.again) }, runner, abort.signal, (id) => {
        batchId = id;
      });
    const run = useRedis ? await runOnBullmq(session, logger, provider, flags, submitTo) : await runEmbedded(session, logger, provider, submitTo);
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

/** Submits the file through the intake to the runner this command opened. */
type SubmitTo = (runner: BatchRunner) => Promise<RunningBatch>;

async function submitFile(
  session: CommandSession,
  logger: Logger,
  provider: Provider,
  request: { file: string; options: TraceOptions; again: boolean },
  runner: BatchRunner,
  signal: AbortSignal,
  onBatch: (id: string) => void,
): Promise<RunningBatch> {
  const { config } = session;
  try {
    const submitted = await submit(
      { dataDir: config.dataDir, provider, duplicateWindowHours: config.duplicateWindowHours },
      {
        file: request.file,
        submitter: { principal: session.principal, origin: config.smsp.auditIdentity.uri, record: (events) => session.record(events) },
        options: request.options,
        wayIn: 'cli',
        again: request.again,
      },
      runner,
      signal,
    );
    logger.info('batch created', { batchId: submitted.batch.id, inputSha256: submitted.batch.inputSha256 });
    onBatch(submitted.batch.id);
    process.stderr.write(`Batch ${submitted.batch.id}\n`);
    if (submitted.overrode) process.stderr.write(`Traced again (--again) after batch ${submitted.overrode.batchId}\n`);
    return submitted.run;
  } catch (err) {
    if (err instanceof DuplicateInputError) throw new CliError(`Not traced: ${err.message}. Use --again to trace it anyway.`, EXIT.fileRejected);
    throw err;
  }
}

interface FinishedRun {
  meta: BatchMeta;
  /** Where SMSP was reached, for the unreachable message. */
  url: string;
}

async function runEmbedded(session: CommandSession, logger: Logger, provider: Provider, submitTo: SubmitTo): Promise<FinishedRun> {
  const { config } = session;
  const connection = await connectSmsp(config, provider, logger, undefined, session.principal);
  if (connection.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
  try {
    const run = await submitTo(embeddedRunner(config.dataDir, { caller: connection.client, audit: session.audit, maxInFlight: config.smsp.maxInFlight }));
    return { meta: await followToTheEnd(run), url: connection.url };
  } finally {
    await connection.close();
  }
}

/**
 * Submits the batch to the queues and follows it from its folder. Unless told otherwise this
 * process also works on the queues, so a lone `pds-trace trace` finishes; workers elsewhere help.
 */
async function runOnBullmq(session: CommandSession, logger: Logger, provider: Provider, flags: TraceFlags, submitTo: SubmitTo): Promise<FinishedRun> {
  const { config } = session;
  const runtime = await openRedisRuntime(config);
  try {
    const local = flags.worker === false ? undefined : await startLocalWorkers(config, logger, runtime, 2, session.audit, provider);
    try {
      const meta = await followToTheEnd(await submitTo(queueRunner(config.dataDir, runtime.queues)));
      return { meta, url: local?.smsp.url ?? describeProvider(provider) };
    } finally {
      await local?.close(10_000);
    }
  } finally {
    await runtime.close();
  }
}

/** Shows the batch's progress until it is finished. */
async function followToTheEnd(run: RunningBatch): Promise<BatchMeta> {
  const stopDisplay = startProgressDisplay(run.progress, process.stderr);
  try {
    return await run.finished;
  } finally {
    stopDisplay();
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
