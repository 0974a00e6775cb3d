import type { Command } from 'commander';
import { countAssembledBatches } from '../metrics/batch-metrics.js';
import { startOpsEndpoint } from '../metrics/ops-endpoint.js';
import { addQueueDepth } from '../metrics/queue-metrics.js';
import { createMetrics } from '../metrics/registry.js';
import { withAuditMetrics } from '../metrics/audit-metrics.js';
import { addScheduleLastSuccess } from '../metrics/schedule-metrics.js';
import { startScheduleWorker } from './schedule-worker.js';
import { QUEUE_NAMES } from '../pipeline/queues.js';
import { loggerFor } from '../log.js';
import { CliError, EXIT } from './errors.js';
import { openRedisRuntime, startLocalWorkers } from './redis-runtime.js';
import { signedInCommand } from './session.js';
import { withActor } from '../pipeline/audit-sink.js';
import { sweepAndAudit } from './work-file-sweep.js';
import { configuredProvider } from './smsp-connection.js';
import { describeProvider } from '../pipeline/provider.js';

/** How often a long-running worker removes the work files of batches past their retention. */
const SWEEP_INTERVAL_MS = 3_600_000;

export function registerWorkerCommand(program: Command): void {
  const command = program
    .command('worker')
    .description('run a long-lived BullMQ worker for the ingest, trace and assemble queues (needs REDIS_URL)')
    .option('--concurrency <n>', 'trace jobs (chunks) this process works on at once', '2')
    .option('--shutdown-timeout <ms>', 'how long to wait for running jobs on SIGINT/SIGTERM before aborting them', '30000');
  // Unattended workers sign in as a service account (PDS_TRACE_SERVICE_ACCOUNT / _TOKEN).
  signedInCommand(command, 'worker', async (session, flags: { concurrency: string; shutdownTimeout: string }) => {
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) throw new CliError('--concurrency must be a positive whole number', EXIT.usage);
      const { config } = session;
      const provider = configuredProvider(config, session.unauthenticated);
      const logger = loggerFor(config);
      const runtime = await openRedisRuntime(config);
      // TLS files that cannot be used end the worker (exit 3) with its Redis connections closed.
      const metrics = createMetrics();
      addQueueDepth(metrics, runtime.queues);
      addScheduleLastSuccess(metrics, config);
      const audit = withAuditMetrics(session.audit, metrics);
      const local = await startLocalWorkers(config, logger, runtime, concurrency, withActor(audit, session.principal.userId), provider, metrics).catch(async (err: unknown) => {
        await runtime.close();
        throw err;
      });
      countAssembledBatches(metrics, local.workers.workers.find((w) => w.name === QUEUE_NAMES.assemble)!, config.dataDir);
      const scheduler = await startScheduleWorker(session, runtime, provider, logger);
      const allWorkers = [...local.workers.workers, ...(scheduler ? [scheduler.worker] : [])];
      const endpoint = await startOpsEndpoint(config, metrics, { redisUrl: config.redisUrl, audit, workers: allWorkers });
      if (endpoint) process.stderr.write(`Metrics and health at ${endpoint.url}/metrics, /healthz and /readyz\n`);
      if (scheduler) process.stderr.write(`Running the schedules of ${config.schedulesFile} when due\n`);
      logger.info('worker started', { concurrency, provider: describeProvider(provider), maxInFlight: config.smsp.maxInFlight, maxRatePerSecond: config.smsp.maxRatePerSecond });
      process.stderr.write(`pds-trace worker running for ${describeProvider(provider)} (trace concurrency ${concurrency}); SIGINT or SIGTERM stops it\n`);
      // At start and hourly; unref'd, so the timer alone never keeps the process up.
      let sweeping = sweepAndAudit(session, logger);
      const sweeper = setInterval(() => {
        sweeping = sweeping.then(() => sweepAndAudit(session, logger));
      }, SWEEP_INTERVAL_MS).unref();
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      logger.info('worker stopping');
      clearInterval(sweeper);
      // Before the audit store closes: a sweep records what it removed.
      await sweeping;
      const shutdownTimeout = Number(flags.shutdownTimeout);
      await scheduler?.close(shutdownTimeout);
      await local.close(shutdownTimeout);
      await endpoint?.close();
      await runtime.close();
      logger.info('worker stopped');
  });
}
