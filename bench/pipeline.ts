import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createBatch } from '../src/pipeline/batch.js';
import { smspProvider } from '../src/pipeline/provider.js';
import { openQueues, submitBatch, type PipelineQueues } from '../src/pipeline/queues.js';
import { BatchWatcher } from '../src/pipeline/watch-batch.js';
import { writeCohort } from '../src/simulator/cohort.js';
import type { SimulatorMetricsSnapshot } from '../src/simulator/metrics.js';
import { ProcessSampler } from './process-stats.js';
import { provisionServiceAccount } from '../test/support/accounts.js';

/**
 * Whole-pipeline throughput against the simulator running as its own process (its CPU is counted
 * apart from the client's, per row from the moment the client starts): a cohort of `rows` traced
 * by the embedded runner (one process) or by BullMQ worker processes, with SMSP_MAX_IN_FLIGHT
 * requests in flight and `latencyMs` per answer. The ideal is maxInFlight / latency requests per
 * second; the trace phase (first to last SMSP request, timed by the simulator's clock) is compared
 * with it. `nodeArgs` reach every process started, e.g. `--cpu-prof` to see where the CPU goes.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist/src/cli.js');
export const POPULATION = { seed: 'pds-trace', size: 100_000 };
/** SMSP_MAX_RATE for runs the rate limit must not bind: far above any pace this machine reaches. */
export const UNBOUNDED_RATE = 100_000;

export interface PipelineBenchOptions {
  runner: 'embedded' | 'bullmq';
  rows: number;
  maxInFlight: number;
  latencyMs: number;
  workers?: number;
  dir: string;
  redisUrl?: string;
  /** Extra Node flags for every process started (e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile them). */
  nodeArgs?: string[];
  /** SMSP_MAX_RATE; unset, effectively unbounded, so that in-flight / latency is the limit measured. */
  maxRatePerSecond?: number;
  /** Extra Node flags for the client processes only (trace, workers), e.g. a heap limit. */
  clientNodeArgs?: string[];
  /** Give the simulator its own share of the cores, as SMSP has its own machines (startSimulatorProcess). Default true. */
  simulatorOwnShare?: boolean;
}

export interface PipelineBenchResult {
  runner: string;
  rows: number;
  wallSeconds: number;
  rowsPerSecond: number;
  traceRequestsPerSecond: number;
  idealRequestsPerSecond: number;
  percentOfIdeal: number;
  simulatorMaxInFlight: number;
  simulatorMaxPerSecond: number;
  maxInFlight: number;
  maxRate: number;
  clientCpuUsPerRow: number;
  /** CPU seconds of each client process (user + system), in start order. */
  clientCpuSeconds: number[];
  /** The simulator's own CPU per row: it shares this machine's cores with the client. */
  simulatorCpuUsPerRow: number;
  /** Whether the simulator ran ahead of the client in the scheduler (see startSimulatorProcess). */
  simulatorPrioritised: boolean;
  peakRssMb: number[];
}

export interface Simulator {
  child: ChildProcess;
  /** Whether it runs at SIMULATOR_NICE, ahead of the client. */
  prioritised: boolean;
  url: string;
  certDir: string;
  status(): Promise<SimulatorMetricsSnapshot & { requestsTotal: number }>;
  stop(): Promise<void>;
}

export function node(args: string[], env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Always read what a child writes: output nobody reads fills the pipe and stalls the child (a
  // million-row trace's progress lines did, after it had written every output).
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

export async function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}:\n${text}`)), timeoutMs);
    const onData = (d: Buffer) => {
      text += String(d);
      const m = text.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => reject(new Error(`process exited:\n${text}`)));
  });
}

/**
 * The scheduling priority the simulator asks for when `ownShare` is set. SMSP answers from its own
 * machines, so its answer times do not depend on how busy the client is; here both share two
 * cores, and at equal priority an answer due after 25 ms waited for a core behind the client's
 * processes (a process at 0 gets about a tenth of the CPU time of one at -10 when both want it).
 */
const SIMULATOR_NICE = -10;

/**
 * Starts the simulator as its own process. With `ownShare` (the default), at a higher scheduling
 * priority than the client (SIMULATOR_NICE), if this user may raise one: `prioritised` says whether it did.
 */
export async function startSimulatorProcess(dir: string, latencyMs: number, nodeArgs: string[] = [], ownShare = true): Promise<Simulator> {
  const certDir = path.join(dir, 'certs');
  const child = node(['simulator', '--port', '0', '--latency', String(latencyMs), '--cert-dir', certDir, '--seed', POPULATION.seed, '--size', String(POPULATION.size), '--log-level', 'warn'], {}, nodeArgs);
  let prioritised = false;
  if (ownShare) {
    try {
      os.setPriority(child.pid!, SIMULATOR_NICE);
      prioritised = true;
    } catch {
      // Raising a priority needs CAP_SYS_NICE: the run goes on at equal priority, and says so.
    }
  }
  const [, url] = await waitForOutput(child, /Listening on (https:\/\/\S+)/);
  const { readFile } = await import('node:fs/promises');
  const [cert, key, ca] = await Promise.all(['client.pem', 'client-key.pem', 'ca.pem'].map((f) => readFile(path.join(certDir, f), 'utf8')));
  const status = () =>
    new Promise<SimulatorMetricsSnapshot & { requestsTotal: number }>((resolve, reject) => {
      https
        .get(new URL('/status', url!), { cert, key, ca }, (res) => {
          let body = '';
          res.on('data', (d) => (body += String(d)));
          res.on('end', () => {
            const parsed = JSON.parse(body);
            resolve(parsed.metrics ?? parsed);
          });
        })
        .on('error', reject);
    });
  return {
    child,
    url: url!,
    certDir,
    prioritised,
    status,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** The settings that point pds-trace at a simulator process, over mutual TLS with its certificates. */
export function smspEnv(simulator: Simulator, maxInFlight: number): Record<string, string> {
  return {
    SMSP_URL: simulator.url,
    SMSP_ASID: '999000000001',
    SMSP_TLS_CERT: path.join(simulator.certDir, 'client.pem'),
    SMSP_TLS_KEY: path.join(simulator.certDir, 'client-key.pem'),
    SMSP_TLS_CA: path.join(simulator.certDir, 'ca.pem'),
    SMSP_MAX_IN_FLIGHT: String(maxInFlight),
  };
}

/** Whichever limit binds: the answers' pace for the slots open, or the starts allowed per second. */
/** Closes the queues and leaves the shared Redis as it was found. */
export async function closeQueues(queues: PipelineQueues, redis: Redis, prefix: string): Promise<void> {
  await queues.close();
  for (let cursor = '0', keys: string[] = []; ; ) {
    [cursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    if (cursor === '0') break;
  }
  redis.disconnect();
}

export function idealRequestsPerSecond(smsp: { maxInFlight: number; latencyMs: number; maxRatePerSecond?: number }): number {
  return Math.min(smsp.maxInFlight / (smsp.latencyMs / 1000), smsp.maxRatePerSecond ?? Infinity);
}

export async function benchPipeline(options: PipelineBenchOptions): Promise<PipelineBenchResult> {
  const simulator = await startSimulatorProcess(options.dir, options.latencyMs, options.nodeArgs, options.simulatorOwnShare);
  const maxRate = options.maxRatePerSecond ?? UNBOUNDED_RATE;
  const prefix = `pds-trace-bench-${randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = {
    ...smspEnv(simulator, options.maxInFlight),
    SMSP_MAX_RATE: String(maxRate),
    PDS_TRACE_DATA_DIR: path.join(options.dir, 'data'),
    REDIS_PREFIX: prefix,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
  };
  // A configured SMSP means governance is on: the processes sign in as a service account.
  Object.assign(env, await provisionServiceAccount(path.join(options.dir, 'data')));
  const cohort = await writeCohort({ ...POPULATION, rows: options.rows, outDir: options.dir, name: `bench-${options.runner}` });

  const clientNodeArgs = [...(options.nodeArgs ?? []), ...(options.clientNodeArgs ?? [])];
  const samplers: ProcessSampler[] = [];
  // Sampled from here on, so generating the population at start-up is not counted per row.
  const simulatorSampler = new ProcessSampler(simulator.child.pid!);
  const simulatorCpuAtStart = (simulatorSampler.sample(), simulatorSampler.cpuSeconds);
  const started = performance.now();
  let children: ChildProcess[] = [];
  try {
    if (options.runner === 'embedded') {
      const child = node(['trace', cohort.csvPath, '--embedded', '--out', path.join(options.dir, 'out'), '--chunk-size', '500'], env, clientNodeArgs);
      children = [child];
      samplers.push(new ProcessSampler(child.pid!));
      const code = await new Promise((r) => child.once('exit', r));
      if (code !== 0) throw new Error(`embedded trace exited ${code}`);
    } else {
      for (let i = 0; i < (options.workers ?? 2); i++) {
        const child = node(['worker', '--concurrency', '2'], env, clientNodeArgs);
        await waitForOutput(child, /worker running/);
        children.push(child);
        samplers.push(new ProcessSampler(child.pid!));
      }
      const redis = new Redis(options.redisUrl!, { maxRetriesPerRequest: null });
      const queues = openQueues(redis, prefix);
      const batch = await createBatch(path.join(options.dir, 'data'), cohort.csvPath, {
        format: 'native', minimal: false, fallbacks: [], user: 'bench', roles: ['tracer'], outDir: path.join(options.dir, 'out'), bom: false, dayFirst: true, chunkSize: 500,
      }, smspProvider(simulator.url));
      await submitBatch(queues, batch);
      await new BatchWatcher(path.join(options.dir, 'data'), batch.id).waitUntilFinished({ intervalMs: 100 });
      await closeQueues(queues, redis, prefix);
    }
    const wallSeconds = (performance.now() - started) / 1000;
    for (const s of samplers) s.stop();
    simulatorSampler.stop();
    const final = await simulator.status();
    // The trace phase on the simulator's clock: the requests after the first, over the time from the
    // first arrival to the last. The last answers' latency after it is the same for any client.
    const traceSeconds =
      final.firstRequestMs !== null && final.lastRequestMs !== null && final.lastRequestMs > final.firstRequestMs
        ? (final.lastRequestMs - final.firstRequestMs) / 1000
        : wallSeconds;
    const traceRequests = Math.max(0, final.requestsTotal - 1);
    const ideal = idealRequestsPerSecond({ ...options, maxRatePerSecond: maxRate });
    const traceRps = traceRequests / traceSeconds;
    return {
      runner: options.runner === 'embedded' ? 'embedded' : `bullmq x${options.workers ?? 2}`,
      rows: options.rows,
      wallSeconds,
      rowsPerSecond: options.rows / wallSeconds,
      traceRequestsPerSecond: traceRps,
      idealRequestsPerSecond: ideal,
      percentOfIdeal: (traceRps / ideal) * 100,
      simulatorMaxInFlight: final.maxInFlight,
      simulatorMaxPerSecond: final.maxStartedPerSecond,
      maxInFlight: options.maxInFlight,
      maxRate,
      clientCpuUsPerRow: (samplers.reduce((a, s) => a + s.cpuSeconds, 0) * 1e6) / options.rows,
      clientCpuSeconds: samplers.map((s) => s.cpuSeconds),
      simulatorCpuUsPerRow: ((simulatorSampler.cpuSeconds - simulatorCpuAtStart) * 1e6) / options.rows,
      simulatorPrioritised: simulator.prioritised,
      peakRssMb: samplers.map((s) => s.peakRssMb),
    };
  } finally {
    simulatorSampler.stop();
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await simulator.stop();
  }
}
