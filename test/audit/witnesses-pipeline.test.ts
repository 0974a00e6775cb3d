import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { collectWitnesses, findMissingEvents } from '../../src/audit/witnesses.js';
import { loadConfig } from '../../src/config.js';
import { assembleBatch } from '../../src/pipeline/assemble.js';
import { createBatch } from '../../src/pipeline/batch.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { batchOptions, openTestAudit, tempDir } from '../support/pipeline.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';

/** A real batch's folder and summary, as `audit verify` reads them. */
describe('witnesses of a traced batch', () => {
  let simulator: TestSimulator | undefined;
  let client: SmspClient | undefined;
  afterEach(async () => {
    client?.close();
    await simulator?.close();
  });

  it('records the chain head in the summary, and every exchange in the results has its audit event', async () => {
    const population = { seed: 'witnesses', size: 2_000 };
    simulator = await startTestSimulator(population);
    const settings = { ...loadConfig({}).smsp, url: simulator.url };
    client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 8, maxRatePerSecond: 10_000 }) });
    const dir = await tempDir('witnesses');
    const audit = await openTestAudit(dir);
    const cohort = await writeCohort({ ...population, rows: 120, outDir: dir, name: 'cohort' });
    const batch = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out`, { chunkSize: 50 }), SIMULATOR_PROVIDER);
    const run = await runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: 8 });
    const { meta } = await assembleBatch(`${dir}/data`, run.meta, { startedAt: new Date(run.meta.createdAt), auditHead: () => audit.currentHead() });

    const head = await audit.currentHead();
    const summary = JSON.parse(await readFile(meta.outputs!.summaryJson, 'utf8')) as { auditHead?: unknown };
    expect(summary.auditHead).toEqual(head);
    expect((await collectWitnesses(`${dir}/data`)).map((w) => w.head)).toEqual([head]);
    expect(await findMissingEvents(audit, `${dir}/data`)).toEqual([]);
    expect(await audit.verify({ expectedHeads: [head] })).toMatchObject({ ok: true });
    await audit.close();
  });
});
