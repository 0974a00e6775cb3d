import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { benchClientCeiling } from './client-ceiling.js';
import { benchClientCpu } from './client-cpu.js';
import { benchNormalise } from './csv-normalise.js';
import { benchPipeline, idealRequestsPerSecond, UNBOUNDED_RATE, type PipelineBenchResult } from './pipeline.js';
import { benchPriority, median } from './priority.js';
import { benchWebUpload } from './web-upload.js';

/**
 * `npm run bench`: the figures a reader compares run to run. Everything runs on this machine
 * against the simulator (its own process, so its CPU is not counted as the client's; it is shown
 * beside it, since both share the machine's cores).
 *   --full        also the 1,000,000-row pipeline runs (long: tens of minutes)
 *   --rows N      rows for the throughput runs (default 50,000)
 *   --only NAME   one section: client, csv, upload, pipeline or priority
 *   --upload-rows N  rows of the largest web upload (default 1,000,000; 100,000 is uploaded too, to compare)
 *   --quick       priority with a 10,000-row bulk batch instead of 100,000 (minutes, not a quarter hour)
 *   REDIS_URL     Redis for the BullMQ runs (default redis://127.0.0.1:6379)
 * Machines here are noisy: compare ratios measured within one run.
 */

const args = process.argv.slice(2);
const full = args.includes('--full');
const quick = args.includes('--quick');
const rowsArg = args.indexOf('--rows');
const throughputRows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 50_000;
const uploadRowsArg = args.indexOf('--upload-rows');
const uploadRows = uploadRowsArg >= 0 ? Number(args[uploadRowsArg + 1]) : 1_000_000;
const SECTIONS = ['client', 'csv', 'upload', 'pipeline', 'priority'] as const;
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? args[onlyArg + 1] : undefined;
if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) throw new Error(`--only: one of ${SECTIONS.join(', ')}`);
const wanted = (section: (typeof SECTIONS)[number]) => only === undefined || only === section;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * SMSP limits the pipeline runs under. `provider-bound`: a provider slower than this machine, as
 * SMSP is (answers take hundreds of milliseconds), so the figure is how much of its allowance the
 * pipeline uses. `cpu-bound`: the issue's example, 1,280 answers a second, close to what two shared
 * cores can build, parse and serve; the SMSP client alone at this setting shows how close. `rate-bound`:
 * SMSP_MAX_RATE binds before the slots do; the simulator's busiest second shows it held. The memory
 * runs use the faster setting, so a million rows fit in one sitting.
 */
const SETTINGS = {
  'provider-bound': { maxInFlight: 64, latencyMs: 200 },
  'cpu-bound': { maxInFlight: 32, latencyMs: 25 },
  'rate-bound': { maxInFlight: 64, latencyMs: 100, maxRatePerSecond: 250 },
} as const;
/** The V8 settings the Dockerfile gives every pds-trace process (NODE_OPTIONS): heap limit, one background thread. */
const CLIENT_NODE_ARGS = ['--max-old-space-size=192', '--v8-pool-size=1'];

const fmt = (n: number, digits = 0) => n.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pds-trace-bench-'));
  console.log(`pds-trace benchmark — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}\n`);
  try {
    if (wanted('client')) await clientSection(dir);
    if (wanted('csv')) await csvSection();
    if (wanted('upload')) await uploadSection();
    if (wanted('pipeline')) await pipelineSection(dir);
    if (wanted('priority')) await prioritySection(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function clientSection(dir: string): Promise<void> {
  const cpu = benchClientCpu();
  console.log('SMSP client CPU per request (getPatientDetailsByNHSNumber, network excluded)');
  console.log(table(['build µs', 'parse µs', 'total µs'], [[fmt(cpu.buildUs), fmt(cpu.parseUs), fmt(cpu.totalUs)]]));

  const ceilingSetting = SETTINGS['cpu-bound'];
  const ceiling = await benchClientCeiling({ rows: throughputRows, ...ceilingSetting, dir: await mkdtemp(path.join(dir, 'ceiling-')) });
  console.log(`\nSMSP client alone, no pipeline (cpu-bound setting: ${ceilingSetting.maxInFlight} in flight, ${ceilingSetting.latencyMs} ms; getPatientDetailsByNHSNumber): the most any runner could reach here`);
  console.log(
    table(
      ['requests', 'requests/s', '% of ideal', 'client CPU µs/request'],
      [[fmt(ceiling.requests), fmt(ceiling.requestsPerSecond), `${fmt(ceiling.percentOfIdeal, 1)}%`, fmt(ceiling.clientCpuUsPerRequest)]],
    ),
  );
}

async function csvSection(): Promise<void> {
  console.log('\nCSV input: read, normalise and validate (memory should be flat in file size)');
  const normalise = [];
  for (const rows of [100_000, 1_000_000]) normalise.push(await benchNormalise(rows));
  console.log(table(['rows', 'rows/s', 'peak RSS MB'], normalise.map((r) => [fmt(r.rows), fmt(r.rowsPerSecond), fmt(r.peakRssMb)])));
}

async function uploadSection(): Promise<void> {
  console.log('\nWeb upload through POST /api/batches: `pds-trace serve` in its own process, the batch queued (REDIS_URL), nothing traced');
  console.log('The server streams the upload to disk, checks it and hands it to the intake; its memory should not grow with the file (bar: under 256 MB)');
  const uploads = [];
  for (const rows of [...new Set([Math.min(100_000, uploadRows), uploadRows])]) {
    process.stderr.write(`uploading ${fmt(rows)} rows...\n`);
    uploads.push(await benchWebUpload({ rows, redisUrl, nodeArgs: CLIENT_NODE_ARGS }));
  }
  console.log(
    table(
      ['rows', 'MB', 'seconds', 'MB/s', 'rows/s', 'server RSS before MB', 'server peak RSS MB'],
      uploads.map((u) => [fmt(u.rows), fmt(u.megabytes, 1), fmt(u.seconds, 1), fmt(u.megabytesPerSecond, 1), fmt(u.rowsPerSecond), fmt(u.idleRssMb), fmt(u.peakRssMb)]),
    ),
  );
}

async function pipelineSection(dir: string): Promise<void> {
  const runs: Array<PipelineBenchResult & { setting: string }> = [];
  // `sharedCores`: the simulator at the client's own priority, for comparison with the runs where
  // it has its own share of the cores, as SMSP does (bench/pipeline.ts, startSimulatorProcess).
  const plan: Array<{ setting: keyof typeof SETTINGS; rows: number; sharedCores?: boolean }> = [
    { setting: 'provider-bound', rows: throughputRows },
    { setting: 'cpu-bound', rows: throughputRows },
    { setting: 'cpu-bound', rows: throughputRows, sharedCores: true },
    { setting: 'rate-bound', rows: throughputRows },
    { setting: 'cpu-bound', rows: 100_000 },
    ...(full ? [{ setting: 'cpu-bound' as const, rows: 1_000_000 }] : []),
  ];
  for (const { setting, rows, sharedCores = false } of plan) {
    for (const runner of ['embedded', 'bullmq'] as const) {
      const runDir = await mkdtemp(path.join(dir, `${runner}-${rows}-`));
      const label = sharedCores ? `${setting}, simulator at equal priority` : setting;
      process.stderr.write(`running ${runner} with ${fmt(rows)} rows (${label})...\n`);
      const result = await benchPipeline({ runner, rows, ...SETTINGS[setting], workers: 2, dir: runDir, redisUrl, clientNodeArgs: CLIENT_NODE_ARGS, simulatorOwnShare: !sharedCores });
      runs.push({ ...result, setting: result.simulatorPrioritised ? setting : `${setting} (equal priority)` });
      // As each run ends: a long --full run that fails later still leaves what it measured.
      process.stderr.write(`  ${fmt(result.percentOfIdeal, 1)}% of ideal, client ${fmt(result.clientCpuUsPerRow)} µs/row, peak RSS ${result.peakRssMb.map((m) => fmt(m)).join(' / ')} MB, ${fmt(result.wallSeconds, 1)} s\n`);
      await rm(runDir, { recursive: true, force: true });
    }
  }
  console.log(`\nWhole pipeline against the simulator (its own process, same cores); client processes run with ${CLIENT_NODE_ARGS.join(' ')}`);
  console.log('The simulator runs ahead of the client in the scheduler (nice -10), as SMSP answers from its own machines; "(equal priority)" marks runs without that.');
  for (const [name, smsp] of Object.entries(SETTINGS)) {
    const rate = 'maxRatePerSecond' in smsp ? smsp.maxRatePerSecond : undefined;
    console.log(`  ${name}: SMSP_MAX_IN_FLIGHT ${smsp.maxInFlight}, latency ${smsp.latencyMs} ms${rate ? `, SMSP_MAX_RATE ${rate}` : ''}, ideal ${fmt(idealRequestsPerSecond(smsp))} requests/s`);
  }
  console.log(
    table(
      ['setting', 'runner', 'rows', 'wall s', 'rows/s', 'trace req/s', '% of ideal', 'sim max in flight', 'sim max /s', 'client CPU µs/row', 'simulator CPU µs/row', 'peak RSS MB (per process)'],
      runs.map((r) => [
        r.setting,
        r.runner,
        fmt(r.rows),
        fmt(r.wallSeconds, 1),
        fmt(r.rowsPerSecond),
        fmt(r.traceRequestsPerSecond),
        `${fmt(r.percentOfIdeal, 1)}%`,
        `${r.simulatorMaxInFlight} (limit ${r.maxInFlight})`,
        r.maxRate < UNBOUNDED_RATE ? `${r.simulatorMaxPerSecond} (limit ${r.maxRate})` : `${r.simulatorMaxPerSecond}`,
        fmt(r.clientCpuUsPerRow),
        fmt(r.simulatorCpuUsPerRow),
        r.peakRssMb.map((m) => fmt(m)).join(' / '),
      ]),
    ),
  );
}

/** SMSP_MAX_RATE binds (the rate-bound setting): the bulk batch keeps the limit full. */
const PRIORITY_SETTING = SETTINGS['rate-bound'];

async function prioritySection(dir: string): Promise<void> {
  const bulkRows = quick ? 10_000 : 100_000;
  process.stderr.write(`running priority: a 200-row interactive batch beside a ${fmt(bulkRows)}-row bulk one...\n`);
  const r = await benchPriority({
    bulkRows,
    interactiveRows: 200,
    workers: 2,
    traceConcurrency: 2,
    chunkSize: 500,
    repeats: 3,
    ...PRIORITY_SETTING,
    dir: await mkdtemp(path.join(dir, 'priority-')),
    redisUrl,
    clientNodeArgs: CLIENT_NODE_ARGS,
  });
  const s = PRIORITY_SETTING;
  console.log(`\nPriority: a 200-row interactive batch (CLI) submitted while two BullMQ workers trace a ${fmt(bulkRows)}-row bulk batch (watched folder)`);
  console.log(`  SMSP_MAX_IN_FLIGHT ${s.maxInFlight}, latency ${s.latencyMs} ms, SMSP_MAX_RATE ${s.maxRatePerSecond}; submission to assembled outputs, median of ${r.alone.length} runs each`);
  console.log(
    table(
      ['interactive alone s', 'interactive mid-way s', 'ratio', 'bound', 'result', 'bulk done at submission', 'bulk batch s'],
      [
        [
          `${fmt(median(r.alone), 2)} (${r.alone.map((x) => fmt(x, 2)).join(', ')})`,
          `${fmt(median(r.midway), 2)} (${r.midway.map((x) => fmt(x, 2)).join(', ')})`,
          `${fmt(r.ratio, 2)}x`,
          `${r.bound}x`,
          r.passed ? 'PASS' : 'FAIL',
          r.bulkDoneAt.map((x) => `${fmt(x * 100)}%`).join(', '),
          fmt(r.bulkSeconds, 1),
        ],
      ],
    ),
  );
  console.log(`  each interactive batch, seconds from submission (alone, then mid-way): ${r.phases.join('; ')}`);
  if (!r.passed) process.exitCode = 1;
}

await main();
