import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { assembleBatch } from '../../src/pipeline/assemble.js';
import { createBatch } from '../../src/pipeline/batch.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { retryErrorRows } from '../../src/pipeline/retry-errors.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { batchOptions, expectResultsMatchGroundTruth, openTestAudit, readCsv, tempDir } from '../support/pipeline.js';

const POPULATION = { seed: 'retry-errors', size: 10_000 };

describe('retrying the error rows of a finished batch', () => {
  const open: Array<{ simulator: TestSimulator; client: SmspClient }> = [];
  afterEach(async () => {
    for (const { simulator, client } of open.splice(0)) {
      client.close();
      await simulator.close();
    }
  });

  async function connect(faults?: string) {
    const simulator = await startTestSimulator({ ...POPULATION, faults, faultSeed: 'retry' });
    const settings = { ...loadConfig({}).smsp, url: simulator.url, retry: { attempts: 1, baseDelayMs: 1 } };
    const client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 8, maxRatePerSecond: 10_000 }) });
    open.push({ simulator, client });
    return { simulator, client };
  }

  it('traces only the error rows again, keeps their earlier exchanges in the audit, and rewrites the outputs', async () => {
    const dir = await tempDir('retry');
    const audit = await openTestAudit(dir);
    const cohort = await writeCohort({ ...POPULATION, rows: 600, outDir: dir, name: 'cohort' });
    const faulty = await connect('fault2200=0.15');
    const batch = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out`), smspProvider(faulty.simulator.url));
    const first = await runBatchEmbedded(`${dir}/data`, batch, { caller: faulty.client, audit, maxInFlight: 8 });
    const before = readCsv(first.meta.outputs!.results);
    const errorRows = before.filter((r) => r.trace_status === 'error').length;
    expect(errorRows).toBeGreaterThan(30);
    const auditBefore = readCsv(first.meta.outputs!.audit).length;

    const healthy = await connect();
    const { retried, stillErrors } = await retryErrorRows(`${dir}/data`, first.meta, healthy.client, { maxInFlight: 8, audit });
    expect(retried).toBe(errorRows);
    expect(stillErrors).toBe(0);
    // Only the error rows were sent again.
    expect(healthy.simulator.metrics().requestsTotal).toBe(errorRows);

    const again = await assembleBatch(`${dir}/data`, first.meta, { startedAt: new Date(first.meta.createdAt) });
    expectResultsMatchGroundTruth(again.meta.outputs!.results, cohort.expectedPath);
    expect(readCsv(again.meta.outputs!.audit).length).toBe(auditBefore + errorRows);
    // The store gained exactly the new exchanges, not the old ones twice.
    const exchanges = await audit.search({ batchId: batch.id, kind: 'smsp_exchange' });
    expect(exchanges).toHaveLength(faulty.simulator.metrics().requestsTotal + errorRows);
    await audit.close();
  });
});
