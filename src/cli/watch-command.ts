import type { Command } from 'commander';
import { createLogger } from '../log.js';
import { embeddedRunner, queueRunner, usesQueues, type BatchRunner } from '../intake/runners.js';
import { FolderWatcher } from '../intake/watch/folder-watcher.js';
import { loadWatchFolderSettings, WatchFolderSettingsError, type WatchFolderSettings } from '../intake/watch/folder-settings.js';
import { watchFolderPaths } from '../intake/watch/folder-layout.js';
import { withAuditMetrics } from '../metrics/audit-metrics.js';
import { countAssembledBatches, withBatchMetrics } from '../metrics/batch-metrics.js';
import { startOpsEndpoint, type ReadinessParts } from '../metrics/ops-endpoint.js';
import { addQueueDepth } from '../metrics/queue-metrics.js';
import { createMetrics } from '../metrics/registry.js';
import { withLimiterMetrics, withSmspMetrics } from '../metrics/smsp-metrics.js';
import { addWatchBacklog, countWatchFailures } from '../metrics/watch-metrics.js';
import { QUEUE_NAMES } from '../pipeline/queues.js';
import { withActor } from '../pipeline/audit-sink.js';
import { describeProvider } from '../pipeline/provider.js';
import { CliError, EXIT } from './errors.js';
import { openRedisRuntime, startLocalWorkers } from './redis-runtime.js';
import { signedInCommand } from './session.js';
import { configuredProvider, connectSmsp, localLimiter, SIMULATOR_NOTICE } from './smsp-connection.js';

/** How often a watcher looks at its folders whatever the file events say (issue 16: every minute). */
const RECONCILE_MS = 60_000;

interface WatchFlags {
  poll?: boolean;
  pollInterval: string;
  stable: string;
  embedded?: boolean;
  worker?: boolean;
  concurrency: string;
}

export function registerWatchCommand(program: Command): void {
  const command = program
    .command('watch')
    .description('trace every file dropped into <folder>/inbox/, unattended, as a service account (bulk priority)')
    .argument('[folder...]', 'watched folders: each gets inbox/, processing/, done/, failed/ and outbox/ (default: PDS_TRACE_WATCH_FOLDERS)')
    .option('--poll', 'look at the folders every --poll-interval instead of waiting for file events (network shares)')
    .option('--poll-interval <ms>', 'with --poll: how often to look', '2000')
    .option('--stable <ms>', 'how long a file must keep its size and modification time before it is taken', '5000')
    .option('--embedded', 'trace in this process, without Redis, even when REDIS_URL is set')
    .option('--no-worker', 'with REDIS_URL: only submit; other worker processes trace')
    .option('--concurrency <n>', 'with REDIS_URL: trace jobs (chunks) this process works on at once', '2');
  // A service account signs in (PDS_TRACE_SERVICE_ACCOUNT / _TOKEN) and is accountable for every batch.
  signedInCommand(command, 'watch', async (session, given: string[], flags: WatchFlags) => {
    const { config, principal } = session;
    const folders = given.length > 0 ? given : [...config.watchFolders];
    if (folders.length === 0) throw new CliError('name the folders to watch, or set PDS_TRACE_WATCH_FOLDERS', EXIT.usage);
    if (!session.unauthenticated && principal.kind !== 'service') {
      throw new CliError('watch runs unattended: sign in as a service account (PDS_TRACE_SERVICE_ACCOUNT and PDS_TRACE_SERVICE_TOKEN)', EXIT.denied);
    }
    const stableMs = positive(flags.stable, '--stable');
    const pollMs = flags.poll ? positive(flags.pollInterval, '--poll-interval') : undefined;
    const concurrency = positive(flags.concurrency, '--concurrency');
    const provider = configuredProvider(config, session.unauthenticated);
    const logger = createLogger({ level: config.logLevel });
    // Every folder's options are checked before anything is claimed.
    const settings: WatchFolderSettings[] = [];
    for (const folder of folders) {
      settings.push(
        await loadWatchFolderSettings(watchFolderPaths(folder)).catch((err: unknown) => {
          throw err instanceof WatchFolderSettingsError ? new CliError(err.message, EXIT.config) : err;
        }),
      );
    }

    const closers: Array<() => Promise<void>> = [];
    const metrics = createMetrics();
    const audit = withAuditMetrics(session.audit, metrics);
    const ready: ReadinessParts = { audit, watchFolders: folders.map((f) => watchFolderPaths(f)) };
    try {
      let runner: BatchRunner;
      if (usesQueues(config.redisUrl, { embedded: flags.embedded })) {
        const runtime = await openRedisRuntime(config);
        closers.unshift(() => runtime.close());
        addQueueDepth(metrics, runtime.queues);
        ready.redisUrl = config.redisUrl;
        if (flags.worker !== false) {
          const local = await startLocalWorkers(config, logger, runtime, concurrency, withActor(audit, principal.userId), provider, metrics);
          closers.unshift(() => local.close(10_000));
          countAssembledBatches(metrics, local.workers.workers.find((w) => w.name === QUEUE_NAMES.assemble)!, config.dataDir);
          ready.workers = local.workers.workers;
        }
        runner = queueRunner(config.dataDir, runtime.queues);
      } else {
        const connection = await connectSmsp(config, provider, logger, withLimiterMetrics(localLimiter(config), metrics), principal);
        closers.unshift(() => connection.close());
        if (connection.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
        runner = withBatchMetrics(embeddedRunner(config.dataDir, { caller: withSmspMetrics(connection.client, metrics), audit, maxInFlight: config.smsp.maxInFlight }), metrics);
      }
      const submitter = { principal, origin: config.smsp.auditIdentity.uri, record: session.record.bind(session) };
      const intake = { dataDir: config.dataDir, provider, duplicateWindowHours: config.duplicateWindowHours };
      const watchers = folders.map(
        (folder, i) =>
          new FolderWatcher({ folder, settings: settings[i]!, intake, submitter, runner, stableMs, reconcileMs: RECONCILE_MS, pollMs, logger, onFileFailed: countWatchFailures(metrics) }),
      );
      addWatchBacklog(metrics, watchers.map((w) => w.paths));
      closers.unshift(async () => {
        await Promise.all(watchers.map((w) => w.stop()));
      });
      for (const watcher of watchers) await watcher.start();
      // After the folders exist, so that readiness judges them as they are.
      const endpoint = await startOpsEndpoint(config, metrics, ready);
      if (endpoint) {
        closers.unshift(() => endpoint.close());
        process.stderr.write(`Metrics and health at ${endpoint.url}/metrics, /healthz and /readyz\n`);
      }
      process.stderr.write(
        `pds-trace watching ${watchers.map((w) => w.paths.root).join(', ')} for ${describeProvider(provider)} (${runner.kind}${pollMs ? ', polling' : ''}); SIGINT or SIGTERM stops it\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      logger.info('watch stopping');
    } finally {
      for (const close of closers) await close();
    }
  });
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive whole number`, EXIT.usage);
  return n;
}
