import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addQueueDepth } from '../../src/metrics/queue-metrics.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { addScheduleLastSuccess } from '../../src/metrics/schedule-metrics.js';
import { addWatchBacklog } from '../../src/metrics/watch-metrics.js';
import type { PipelineQueues } from '../../src/pipeline/queues.js';

interface Panel {
  title: string;
  targets: Array<{ expr: string }>;
}

describe('config/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync('config/grafana-dashboard.json', 'utf8')) as { uid: string; panels: Panel[] };

  it('queries only metrics that pds-trace exports, so a renamed metric cannot leave a panel empty', async () => {
    const metrics = createMetrics();
    addQueueDepth(metrics, {} as PipelineQueues);
    addWatchBacklog(metrics, []);
    addScheduleLastSuccess(metrics, { dataDir: '/nonexistent', schedulesFile: '/nonexistent/schedules.json' });
    const exported = new Set(metrics.registry.getMetricsAsArray().map((m) => m.name));
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/pdstrace_[a-z0-9_]+/g) ?? [])).map((name) => name.replace(/_(bucket|count|sum)$/, '')));
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(exported.has(name), name).toBe(true);
    // Every metric of our own is on the dashboard somewhere.
    const ours = [...exported].filter((n) => !n.startsWith('pdstrace_process_') && !n.startsWith('pdstrace_nodejs_'));
    for (const name of ours) expect(used.has(name), name).toBe(true);
  });

  it('has a unique id per panel and a Prometheus data source chosen on import', () => {
    expect(dashboard.uid).toBe('pds-trace');
    const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
