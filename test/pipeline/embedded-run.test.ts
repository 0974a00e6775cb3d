import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatch } from '../../src/pipeline/batch.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { BatchProgress } from '../../src/pipeline/progress.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { loadConfig } from '../../src/config.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { batchOptions, expectResultsMatchGroundTruth, openTestAudit, readCsv, tempDir } from '../support/pipeline.js';
import type { AuditStore } from '../../src/audit/store.js';

const POPULATION = { seed: 'embedded-e2e', size: 20_000 };
// A wider rate margin than the default: on a loaded 2-core CI machine arrivals jitter by 100 ms and more.
const LIMITS = { maxInFlight: 12, maxRatePerSecond: 600, windowSlackMs: 150 };

describe('embedded runner end to end against the simulator over mutual TLS', () => {
  let simulator: TestSimulator;
  let client: SmspClient;
  let dir: string;
  let audit: AuditStore;

  beforeAll(async () => {
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 3, jitterMs: 2 });
    const settings = { ...loadConfig({}).smsp, url: simulator.url, maxInFlight: LIMITS.maxInFlight, maxRatePerSecond: LIMITS.maxRatePerSecond };
    client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter(LIMITS) });
    dir = await tempDir('embedded');
    audit = await openTestAudit(dir);
  });
  afterAll(async () => {
    await audit?.close();
    client?.close();
    await simulator?.close();
  });

  it('traces a generated cohort: every row once, in input order, equal to the ground truth, limits held', async () => {
    const cohort = await writeCohort({ ...POPULATION, rows: 2500, outDir: dir, name: 'cohort' });
    const batch = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out`, { chunkSize: 250 }), smspProvider(simulator.url));
    const progress = new BatchProgress();
    const run = await runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: LIMITS.maxInFlight, progress });

    expect(run.meta.state).toBe('assembled');
    expect(progress.done).toBe(2500);
    const results = expectResultsMatchGroundTruth(run.meta.outputs!.results, cohort.expectedPath);
    expect(new Set(results.map((r) => r.trace_status)).size).toBeGreaterThanOrEqual(8);

    const metrics = simulator.metrics();
    expect(metrics.maxInFlight).toBeLessThanOrEqual(LIMITS.maxInFlight);
    expect(metrics.maxStartedPerSecond).toBeLessThanOrEqual(LIMITS.maxRatePerSecond);
    expect(Object.values(metrics.violations).reduce((a, b) => a + b, 0)).toBe(0);

    // One audit line per exchange, plus one per locally rejected row.
    const auditCsv = readCsv(run.meta.outputs!.audit);
    const rejected = results.filter((r) => r.trace_status === 'invalid_input').length;
    expect(auditCsv.length).toBe(metrics.requestsTotal + rejected);

    // The audit store holds the same: every exchange and every rejected row, in one verified chain.
    const stored = await audit.search({ batchId: batch.id });
    expect(stored.filter((e) => e.kind === 'smsp_exchange')).toHaveLength(metrics.requestsTotal);
    expect(stored.filter((e) => e.kind === 'row_rejected')).toHaveLength(rejected);
    expect(stored.every((e) => e.user === 'tester' && e.role === 'tracer')).toBe(true);
    expect((await audit.verify()).ok).toBe(true);
    // Generous: on a loaded 2-core machine 2,500 rows took over the 30 s default, with or without this change.
  }, 120_000);

  it('rejects a file whose columns cannot be mapped, with the reason, and writes no results', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = `${dir}/nonsense.csv`;
    await writeFile(file, 'colour,flavour\nred,sweet\n');
    const batch = await createBatch(`${dir}/data`, file, batchOptions(`${dir}/out2`), smspProvider(simulator.url));
    const run = await runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: 2 });
    expect(run.meta.state).toBe('rejected');
    expect(run.meta.rejection?.message).toMatch(/colour/);
    expect(run.meta.outputs).toBeUndefined();
  });
});
