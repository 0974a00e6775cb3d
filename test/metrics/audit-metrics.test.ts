import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import { withAuditMetrics } from '../../src/metrics/audit-metrics.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { sampleEvents } from '../audit/fixtures.js';
import { tempDir } from '../support/pipeline.js';

describe('audit append failures', () => {
  it('are counted and the failure passed on unchanged, while the store otherwise works as before', async () => {
    const dataDir = path.join(await tempDir('audit-metrics'), 'data');
    const metrics = createMetrics({ processMetrics: false });
    const store = withAuditMetrics(await openAuditStore({ dataDir }), metrics);
    try {
      await store.append(sampleEvents(3));
      expect((await store.currentHead()).seq).toBe(3);
      expect(store.location).toContain(dataDir);
      expect(await metrics.registry.metrics()).toContain('pdstrace_audit_append_failures_total 0');

      // The last event deleted behind the store's back: the next append must refuse to chain on.
      const file = path.join(dataDir, 'audit', 'events.jsonl');
      const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
      await writeFile(file, `${lines.slice(0, 2).join('\n')}\n`);
      const refused = await store.append(sampleEvents(1, 4)).catch((err: unknown) => err as Error);
      expect(refused).toBeInstanceOf(Error);
      expect(await metrics.registry.metrics()).toContain('pdstrace_audit_append_failures_total 1');
    } finally {
      await store.close();
    }
  });
});
