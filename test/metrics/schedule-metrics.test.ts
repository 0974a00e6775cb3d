import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimSlot, saveRun } from '../../src/intake/schedules/schedule-runs.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { addScheduleLastSuccess } from '../../src/metrics/schedule-metrics.js';
import { tempDir } from '../support/pipeline.js';
import { tracedBatch } from '../web/web-support.js';

describe('the last successful run of each schedule', () => {
  it('is when its latest run that produced results finished; a failed night does not count, and a schedule never run is 0', async () => {
    const dir = await tempDir('schedule-metrics');
    const dataDir = path.join(dir, 'data');
    const file = path.join(dir, 'schedules.json');
    const schedule = (name: string) => ({ name, cron: '30 2 * * *', input: 'in', out: 'out', owner: 'svc-night' });
    await writeFile(file, JSON.stringify({ schedules: [schedule('pas-nightly'), schedule('gp-weekly')] }));

    // Monday's run made a batch that finished; Tuesday's failed before making one.
    const batch = await tracedBatch(dataDir, path.join(dir, 'out'), 'svc-night', 5);
    const monday = { schedule: 'pas-nightly', slot: '2026-11-30T02:30:00.000Z', jobId: 'j1', startedAt: '2026-11-30T02:30:01.000Z', late: false };
    const claim = await claimSlot(dataDir, monday);
    if (!claim.taken) throw new Error('slot not taken');
    await saveRun(dataDir, { ...claim.run, state: 'submitted', batchId: batch.id });
    const tuesday = await claimSlot(dataDir, { ...monday, slot: '2026-12-01T02:30:00.000Z', jobId: 'j2', startedAt: '2026-12-01T02:30:01.000Z' });
    if (!tuesday.taken) throw new Error('slot not taken');
    await saveRun(dataDir, { ...tuesday.run, state: 'failed', reason: 'the input folder held no file' });

    const metrics = createMetrics({ processMetrics: false });
    addScheduleLastSuccess(metrics, { dataDir, schedulesFile: file });
    const text = await metrics.registry.metrics();
    expect(batch.state).toBe('assembled');
    expect(text).toContain(`pdstrace_schedule_last_success_timestamp_seconds{schedule="pas-nightly"} ${Date.parse(batch.finishedAt!) / 1000}`);
    expect(text).toContain('pdstrace_schedule_last_success_timestamp_seconds{schedule="gp-weekly"} 0');
  }, 120_000);
});
