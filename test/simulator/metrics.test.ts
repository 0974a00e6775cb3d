import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPrometheus, SimulatorMetrics } from '../../src/simulator/metrics.js';
import { fakeDirectory, rawGet, rawPost, rawRequest, startTestSimulator, type TestSimulator } from '../support/simulator.js';

const QUERY = { familyName: 'SMITH', dateOfBirth: '19800101', sex: '1' as const };

/** A metrics object on a clock the test moves. */
function metricsAt(): { metrics: SimulatorMetrics; at: (ms: number) => void } {
  let now = 0;
  return { metrics: new SimulatorMetrics(() => now), at: (ms) => (now = ms) };
}

describe('SimulatorMetrics', () => {
  it('keeps the most starts seen in any sliding one-second window, even across second boundaries', () => {
    const { metrics, at } = metricsAt();
    // 3 starts late in second 0 and 4 early in second 1: fixed buckets would say 4, the window says 7.
    for (const t of [700, 800, 900, 1100, 1200, 1300, 1400]) {
      at(t);
      metrics.requestStarted();
      metrics.requestFinished();
    }
    expect(metrics.snapshot().maxStartedPerSecond).toBe(7);
    at(1699);
    metrics.requestStarted();
    expect(metrics.snapshot().maxStartedPerSecond).toBe(8);
    at(1700); // the start at 700 is exactly 1 s old: out of the window
    metrics.requestStarted();
    expect(metrics.snapshot().maxStartedPerSecond).toBe(8);
    at(5000);
    expect(metrics.snapshot().startedLastSecond).toBe(0);
    expect(metrics.snapshot().maxStartedPerSecond).toBe(8);
  });

  it('tracks current and maximum requests in flight', () => {
    const { metrics } = metricsAt();
    metrics.requestStarted();
    metrics.requestStarted();
    metrics.requestStarted();
    metrics.requestFinished();
    metrics.requestStarted();
    metrics.requestFinished();
    expect(metrics.snapshot()).toMatchObject({ inFlight: 2, maxInFlight: 3, requestsTotal: 4 });
  });

  it('counts answers by interaction and code, faults by kind and violations by rule', () => {
    const { metrics } = metricsAt();
    metrics.recordAnswer('getNHSNumber', 'SMSP-0000');
    metrics.recordAnswer('getNHSNumber', 'SMSP-0000');
    metrics.recordAnswer('verifyNHSNumber', 'DEMOG-0040');
    metrics.recordAnswer(undefined, 'ITK-1000');
    metrics.recordFault('busy');
    metrics.recordViolations(['WS-ADR-01', 'UNIQUE-IDS', 'WS-ADR-01']);
    expect(metrics.snapshot()).toMatchObject({
      requests: { getNHSNumber: { 'SMSP-0000': 2 }, verifyNHSNumber: { 'DEMOG-0040': 1 }, unknown: { 'ITK-1000': 1 } },
      faults: { busy: 1 },
      violations: { 'WS-ADR-01': 2, 'UNIQUE-IDS': 1 },
    });
  });

  it('times the first and last request on its own clock, from the last reset', () => {
    const { metrics, at } = metricsAt();
    expect(metrics.snapshot()).toMatchObject({ firstRequestMs: null, lastRequestMs: null });
    at(50);
    metrics.reset();
    for (const t of [120, 300, 2_050]) {
      at(t);
      metrics.requestStarted();
    }
    expect(metrics.snapshot()).toMatchObject({ requestsTotal: 3, firstRequestMs: 70, lastRequestMs: 2_000 });
  });

  it('reset clears counts and restarts the maximum from the requests still open', () => {
    const { metrics, at } = metricsAt();
    metrics.requestStarted();
    metrics.requestStarted();
    metrics.recordAnswer('getNHSNumber', 'SMSP-0000');
    metrics.requestFinished();
    at(100);
    metrics.reset();
    expect(metrics.snapshot()).toMatchObject({ requestsTotal: 0, requests: {}, inFlight: 1, maxInFlight: 1, maxStartedPerSecond: 0, firstRequestMs: null });
    metrics.requestFinished();
    expect(metrics.snapshot().inFlight).toBe(0);
  });

  it('renders the Prometheus text format with escaped labels', () => {
    const { metrics } = metricsAt();
    metrics.requestStarted();
    metrics.recordAnswer('getNHSNumber', 'SMSP-0000');
    metrics.recordViolations(['SCHEMA-VALID']);
    metrics.recordFault('odd"kind\\');
    const text = renderPrometheus(metrics.snapshot());
    expect(text).toContain('# TYPE pds_trace_simulator_requests_total counter\n');
    expect(text).toContain('pds_trace_simulator_requests_total{interaction="getNHSNumber",code="SMSP-0000"} 1\n');
    expect(text).toContain('pds_trace_simulator_protocol_violations_total{rule="SCHEMA-VALID"} 1\n');
    expect(text).toContain('pds_trace_simulator_faults_total{kind="odd\\"kind\\\\"} 1\n');
    expect(text).toContain('pds_trace_simulator_in_flight 1\n');
    expect(text).toContain('pds_trace_simulator_in_flight_max 1\n');
    expect(text).toContain('pds_trace_simulator_requests_started_per_second_max 1\n');
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \S+ .+|[a-z_]+(\{[^}]*\})? \d+)$/);
  });
});

describe('metrics over mutual TLS', () => {
  let simulator: TestSimulator;
  beforeAll(async () => {
    simulator = await startTestSimulator({
      directory: fakeDirectory(() => ({ responseCode: 'DEMOG-0001' })),
      latencyMs: 600,
    });
  });
  afterAll(async () => {
    await simulator.close();
  });

  it('report a known burst: 12 concurrent requests are 12 in flight and 12 started in one second', async () => {
    simulator.resetMetrics();
    await Promise.all(Array.from({ length: 12 }, () => rawPost(simulator, rawRequest('getNHSNumber', QUERY))));
    const metrics = simulator.metrics();
    expect(metrics.maxInFlight).toBe(12);
    expect(metrics.maxStartedPerSecond).toBe(12);
    expect(metrics.requestsTotal).toBe(12);
    expect(metrics.requests).toEqual({ getNHSNumber: { 'DEMOG-0001': 12 } });
  });

  it('report one in flight for sequential requests', async () => {
    simulator.resetMetrics();
    for (let i = 0; i < 3; i++) await rawPost(simulator, rawRequest('getNHSNumber', QUERY));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const metrics = simulator.metrics();
    expect(metrics).toMatchObject({ maxInFlight: 1, inFlight: 0, requestsTotal: 3 });
    // Starts at least 600 ms apart: never three in one second.
    expect(metrics.maxStartedPerSecond).toBeGreaterThanOrEqual(1);
    expect(metrics.maxStartedPerSecond).toBeLessThanOrEqual(2);
  });

  it('serve GET /metrics as Prometheus text and GET /status as JSON, over mutual TLS', async () => {
    simulator.resetMetrics();
    await rawPost(simulator, rawRequest('getNHSNumber', QUERY));
    const prometheus = await rawGet(simulator, '/metrics');
    expect(prometheus.status).toBe(200);
    expect(prometheus.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(prometheus.body).toContain('pds_trace_simulator_requests_total{interaction="getNHSNumber",code="DEMOG-0001"} 1');

    const status = await rawGet(simulator, '/status');
    expect(status.status).toBe(200);
    const json = JSON.parse(status.body) as { metrics: { requestsTotal: number }; rules: Array<{ id: string }> };
    expect(json.metrics.requestsTotal).toBe(1);
    expect(json.rules.map((r) => r.id)).toContain('TIMESTAMP-WINDOW');
  });

  it('POST /reset clears the counters', async () => {
    await rawPost(simulator, rawRequest('getNHSNumber', QUERY));
    const reset = await rawPost(simulator, '', { path: '/reset', soapAction: null });
    expect(reset.status).toBe(204);
    expect(simulator.metrics()).toMatchObject({ requestsTotal: 0, requests: {} });
  });
});
