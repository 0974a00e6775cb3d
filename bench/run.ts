import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { benchClientCpu } from './client-cpu.js';
import { benchNormalise } from './csv-normalise.js';
import { benchPipeline, type PipelineBenchResult } from './pipeline.js';

/**
 * `npm run bench`: the figures a reader compares run to run. Everything runs on this machine
 * against the simulator (its own process, so its CPU is not counted as the client's; it is shown
 * beside it, since both share the machine's cores).
 *   --full        also the 1,000,000-row pipeline runs (long: tens of minutes)
 *   --rows N      rows for the throughput runs (default 50,000)
 *   REDIS_URL     Redis for the BullMQ runs (default redis://127.0.0.1:6379)
 * Machines here are noisy: compare ratios measured within one run.
 */

const args = process.argv.slice(2);
const full = args.includes('--full');
const rowsArg = args.indexOf('--rows');
const throughputRows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 50_000;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SMSP = { maxInFlight: 32, latencyMs: 25 };

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
    const cpu = benchClientCpu();
    console.log('SMSP client CPU per request (getPatientDetailsByNHSNumber, network excluded)');
    console.log(table(['build µs', 'parse µs', 'total µs'], [[fmt(cpu.buildUs), fmt(cpu.parseUs), fmt(cpu.totalUs)]]));

    console.log('\nCSV input: read, normalise and validate (memory should be flat in file size)');
    const normalise = [];
    for (const rows of [100_000, 1_000_000]) normalise.push(await benchNormalise(rows));
    console.log(table(['rows', 'rows/s', 'peak RSS MB'], normalise.map((r) => [fmt(r.rows), fmt(r.rowsPerSecond), fmt(r.peakRssMb)])));

    const runs: PipelineBenchResult[] = [];
    const sizes = full ? [throughputRows, 100_000, 1_000_000] : [throughputRows, 100_000];
    for (const rows of sizes) {
      for (const runner of ['embedded', 'bullmq'] as const) {
        const runDir = await mkdtemp(path.join(dir, `${runner}-${rows}-`));
        process.stderr.write(`running ${runner} with ${fmt(rows)} rows...\n`);
        runs.push(await benchPipeline({ runner, rows, ...SMSP, workers: 2, dir: runDir, redisUrl }));
      }
    }
    console.log(`\nWhole pipeline against the simulator: SMSP_MAX_IN_FLIGHT ${SMSP.maxInFlight}, latency ${SMSP.latencyMs} ms, ideal ${fmt(SMSP.maxInFlight / (SMSP.latencyMs / 1000))} requests/s`);
    console.log(
      table(
        ['runner', 'rows', 'wall s', 'rows/s', 'trace req/s', '% of ideal', 'sim max in flight', 'sim max /s', 'client CPU µs/row', 'simulator CPU µs/row', 'peak RSS MB (per process)'],
        runs.map((r) => [
          r.runner,
          fmt(r.rows),
          fmt(r.wallSeconds, 1),
          fmt(r.rowsPerSecond),
          fmt(r.traceRequestsPerSecond),
          `${fmt(r.percentOfIdeal, 1)}%`,
          `${r.simulatorMaxInFlight} (limit ${r.maxInFlight})`,
          `${r.simulatorMaxPerSecond}`,
          fmt(r.clientCpuUsPerRow),
          fmt(r.simulatorCpuUsPerRow),
          r.peakRssMb.map((m) => fmt(m)).join(' / '),
        ]),
      ),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
