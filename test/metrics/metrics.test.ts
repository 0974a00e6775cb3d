import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { openQueues } from '../../src/pipeline/queues.js';
import { createSmspClient } from '../../src/smsp/client.js';
import { createPopulation } from '../../src/simulator/population/population.js';
import { startMetricsEndpoint } from '../../src/metrics/http-endpoint.js';
import { addQueueDepth } from '../../src/metrics/queue-metrics.js';
import { checkReadiness, consumingProbe, dataFolderProbe, redisUrlProbe } from '../../src/metrics/readiness.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { withLimiterMetrics, withSmspMetrics } from '../../src/metrics/smsp-metrics.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

let simulator: TestSimulator;
let dir: string;
beforeAll(async () => {
  simulator = await startTestSimulator({ faults: { busy: 0.3 } });
  dir = await mkdtemp(path.join(os.tmpdir(), 'pds-metrics-'));
});
afterAll(async () => {
  await simulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SMSP metrics', () => {
  it('counts every request by interaction and code, retries and busy answers, over real mutual TLS', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const limiter = withLimiterMetrics(createLocalLimiter({ maxInFlight: 4, maxRatePerSecond: 200 }), metrics);
    const client = await createSmspClient(
      { url: simulator.url, tls: {}, auditIdentity: { type: 'asid', uri: '999000000001' }, username: 'metrics-test', fromAddress: 'urn:test', timeoutMs: 10_000, maxInFlight: 4, maxRatePerSecond: 200, rateSlackMs: 50, retry: { attempts: 5, baseDelayMs: 5 } },
      { limiter, tls: simulator.clientTls },
    );
    const caller = withSmspMetrics(client, metrics);
    // A live person of the simulator's own population (startTestSimulator's seed and size).
    const person = [...createPopulation({ seed: 'test', size: 1000 }).people()].find((p) => p.record === 'live' && p.dateOfBirth.length === 8)!;
    try {
      for (let i = 0; i < 20; i++) await caller.call('getPatientDetailsByNHSNumber', { nhsNumber: person.nhsNumber, dateOfBirth: person.dateOfBirth });
    } finally {
      client.close();
    }
    const text = await metrics.registry.metrics();
    const sent = Number(/pdstrace_smsp_requests_total\{interaction="getPatientDetailsByNHSNumber",code="SMSP-0000"\} (\d+)/.exec(text)?.[1]);
    const busy = Number(/pdstrace_smsp_requests_total\{interaction="getPatientDetailsByNHSNumber",code="HTTP-503"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(sent).toBe(20);
    expect(busy).toBe(simulator.metrics().faults.busy ?? 0);
    expect(text).toContain(`pdstrace_smsp_busy_total ${busy}`);
    expect(text).toMatch(new RegExp(`pdstrace_smsp_retries_total\\{interaction="getPatientDetailsByNHSNumber",reason="provider_busy"\\} ${busy}`));
    expect(text).toContain('pdstrace_smsp_requests_in_flight 0');
    expect(text).toMatch(/pdstrace_smsp_request_duration_seconds_count\{interaction="getPatientDetailsByNHSNumber"\} \d+/);
    expect(text).toMatch(/pdstrace_limiter_wait_seconds_count \d+/);
    // Nothing about the person in any label or value line.
    expect(text).not.toContain(person.nhsNumber);
  });
});

describe('the operations endpoint', () => {
  it('serves /metrics with queue depth from Redis, /healthz, and /readyz with what failed', async () => {
    const metrics = createMetrics();
    const redis = connectTestRedis();
    const prefix = uniquePrefix('metrics');
    const queues = openQueues(redis, prefix);
    addQueueDepth(metrics, queues);
    await queues.trace.add('trace', { batchId: 'b1', chunk: 0 });
    let consuming = true;
    const endpoint = await startMetricsEndpoint({
      host: '127.0.0.1',
      port: 0,
      registry: metrics.registry,
      readiness: () => checkReadiness([redisUrlProbe(TEST_REDIS_URL), dataFolderProbe(dir), consumingProbe([{ name: 'trace', isRunning: () => consuming, isPaused: () => false }])]),
    });
    try {
      const scraped = await fetch(`${endpoint.url}/metrics`);
      expect(scraped.headers.get('content-type')).toMatch(/text\/plain/);
      const text = await scraped.text();
      expect(text).toContain('pdstrace_queue_jobs{queue="trace",state="waiting"} 1');
      expect(text).toMatch(/pdstrace_process_resident_memory_bytes \d+/);
      expect(await (await fetch(`${endpoint.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${endpoint.url}/readyz`);
      expect(ready.status).toBe(200);
      consuming = false;
      const notReady = await fetch(`${endpoint.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ ready: false, checks: expect.arrayContaining([{ name: 'consuming', ok: false, detail: 'not consuming: trace' }]) });
      expect((await fetch(`${endpoint.url}/other`)).status).toBe(404);
    } finally {
      await endpoint.close();
      await queues.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });
});
