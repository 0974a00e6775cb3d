import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveTracing } from '../../src/cli/serve-command.js';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { loadBatch } from '../../src/pipeline/batch.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { startWebServer } from '../../src/web/start.js';
import { smspClientEnv, startTestSimulator } from '../support/simulator.js';
import { readCsv } from '../support/pipeline.js';
import { apiUpload, POPULATION, signIn, uploadForm, waitForBatch } from '../web/upload-support.js';
import { dataFolderWithPeople, FAST_SCRYPT, webConfig } from '../web/web-support.js';

/**
 * `serve` without REDIS_URL traces uploads in its own process, so its metrics must count what a
 * worker counts: rows by status under way in "web", SMSP requests, the limiter's waits and slots.
 */
describe('metrics of serve tracing in its own process', () => {
  it('count the uploaded batch rows by status under way_in "web", and its SMSP requests, with no input value in the text', async () => {
    const { dir, dataDir } = await dataFolderWithPeople();
    const simulator = await startTestSimulator({ ...POPULATION, latencyMs: 1, certDir: path.join(dir, 'sim-certs') });
    const config = webConfig(dataDir, { ...smspClientEnv(simulator, dataDir), PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' });
    const metrics = createMetrics();
    const server = await startWebServer({ config, host: '127.0.0.1', port: 0, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT, openTracing: serveTracing(config, metrics) });
    try {
      const cohort = await writeCohort({ ...POPULATION, rows: 40, outDir: path.join(dir, 'cohorts'), name: 'metrics-cohort' });
      const tess = await signIn(server.url, 'tess');
      const response = await apiUpload(server.url, tess, uploadForm(readFileSync(cohort.csvPath), 'metrics-cohort.csv'));
      expect(response.status).toBe(202);
      const { id } = (await response.json()) as { id: string };
      await waitForBatch(server.url, tess, id);
      const summary = JSON.parse(readFileSync((await loadBatch(dataDir, id)).outputs!.summaryJson, 'utf8')) as { byStatus: Record<string, number> };

      // The rows are counted as the batch's outputs are read, just after it is done.
      const deadline = Date.now() + 10_000;
      let text = await metrics.registry.metrics();
      while (!text.includes('way_in="web"') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        text = await metrics.registry.metrics();
      }
      for (const [status, count] of Object.entries(summary.byStatus).filter(([, n]) => n > 0)) {
        expect(text).toContain(`pdstrace_rows_total{status="${status}",way_in="web"} ${count}`);
      }
      const requests = [...text.matchAll(/^pdstrace_smsp_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      expect(requests).toBeGreaterThan(0);
      expect(text).toMatch(/^pdstrace_limiter_wait_seconds_count \d+$/m);
      expect(text).toContain('pdstrace_smsp_requests_in_flight 0');

      const values = readCsv(cohort.csvPath).flatMap((row) => [row.nhs_number, row.family_name, row.given_name, row.date_of_birth, row.postcode, row.local_id]);
      expect(values.filter((v): v is string => Boolean(v && v.length >= 4 && text.includes(v)))).toEqual([]);
      expect(text).not.toContain('metrics-cohort');
    } finally {
      await server.close();
      await simulator.close();
    }
  }, 180_000);
});
