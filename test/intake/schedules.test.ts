import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import { hashPassword } from '../../src/auth/password.js';
import { issueServiceToken } from '../../src/auth/service-token.js';
import { serviceAccountSubmitter } from '../../src/intake/account-submitter.js';
import { embeddedRunner } from '../../src/intake/runners.js';
import { firesNearClockChange } from '../../src/intake/schedules/clock-changes.js';
import { parseSchedules, ScheduleFileError } from '../../src/intake/schedules/schedule-file.js';
import { openScheduleQueue, scheduledJobProcessor, scheduleStatuses, syncSchedules, type ScheduledJobData } from '../../src/intake/schedules/schedule-queue.js';
import { claimSlot, listRuns } from '../../src/intake/schedules/schedule-runs.js';
import { runScheduledSlot, startedLate, type ScheduledRunDeps } from '../../src/intake/schedules/run-scheduled.js';
import { loadBatch } from '../../src/pipeline/batch.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { recordedUsers } from '../support/accounts.js';
import { openTestAudit, tempDir } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../support/redis.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';

const FAST = { cost: 2 ** 10, blockSize: 8, parallelism: 1 };

describe('the schedules file', () => {
  const ok = { name: 'pas-nightly', cron: '30 2 * * *', input: 'in', out: 'out', owner: 'svc' };

  it('reads relative paths from the file\'s folder and fills the defaults', () => {
    const [s] = parseSchedules({ schedules: [ok] }, '/srv/pds/schedules.json');
    expect(s).toMatchObject({ timezone: 'Europe/London', input: '/srv/pds/in', out: '/srv/pds/out', options: { format: 'native', minimal: false, fallbacks: [] } });
  });

  it('names the schedule and the key of every problem', () => {
    const bad = {
      schedules: [
        { ...ok, name: 'a', cron: '61 * * * *' },
        { ...ok, name: 'b', timezone: 'Mars/Olympus' },
        { ...ok, name: 'c', colour: 'blue' },
        { ...ok, name: 'd', options: { fallbacks: ['guess'] } },
      ],
    };
    let error: unknown;
    try {
      parseSchedules(bad, 'schedules.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ScheduleFileError);
    const text = (error as Error).message;
    expect(text).toMatch(/schedule "b": timezone: not a time zone/);
    expect(text).toMatch(/schedule "c": colour: /);
    expect(text).toMatch(/schedule "d": options\.fallbacks\.0: /);
    // The cron check comes once the shapes are right.
    expect(() => parseSchedules({ schedules: [{ ...ok, cron: '61 * * * *' }, { ...ok }] }, 'schedules.json')).toThrow(/schedule "pas-nightly": cron: .*61.*; schedule "pas-nightly": name: used twice/);
  });

  it('calls a run late once its following slot has come, or ten minutes after its own', () => {
    const slot = new Date('2026-12-06T02:30:00Z');
    const nightly = { cron: '30 2 * * *', timezone: 'Europe/London' };
    expect(startedLate(slot, new Date('2026-12-06T02:30:05Z'), nightly)).toBe(false);
    expect(startedLate(slot, new Date('2026-12-06T02:41:00Z'), nightly)).toBe(true);
    const everyTwoSeconds = { cron: '*/2 * * * * *', timezone: 'Europe/London' };
    expect(startedLate(slot, new Date('2026-12-06T02:30:01.500Z'), everyTwoSeconds)).toBe(false);
    expect(startedLate(slot, new Date('2026-12-06T02:30:02Z'), everyTwoSeconds)).toBe(true);
  });

  it('finds the nights a time falls in the hour the clocks change', () => {
    const from = new Date('2026-12-06T00:00:00Z');
    expect(firesNearClockChange('30 1 * * *', 'Europe/London', from).map((d) => d.toISOString().slice(0, 10))).toEqual(['2027-03-28', '2027-10-31']);
    expect(firesNearClockChange('30 4 * * *', 'Europe/London', from)).toEqual([]);
  });
});

describe('scheduled runs on real Redis', () => {
  let simulator: TestSimulator;
  let client: SmspClient;
  let audit: AuditStore;
  let dir: string;
  let dataDir: string;
  const prefix = uniquePrefix('schedule');
  const redis = connectTestRedis();
  let deps: ScheduledRunDeps;

  beforeAll(async () => {
    simulator = await startTestSimulator();
    client = await createSmspClient(
      { url: simulator.url, tls: {}, auditIdentity: { type: 'asid', uri: '999000000001' }, username: 'schedule-test', fromAddress: 'urn:test', timeoutMs: 10_000, maxInFlight: 4, maxRatePerSecond: 200, rateSlackMs: 50, retry: { attempts: 3, baseDelayMs: 10 } },
      { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 4, maxRatePerSecond: 200 }) },
    );
    dir = await tempDir('schedules');
    dataDir = path.join(dir, 'data');
    const users = await recordedUsers(dataDir);
    await users.add({ id: 'admin', kind: 'person', roles: ['admin'], passwordHash: await hashPassword('synthetic-admin-pass', FAST) }, { firstOnly: true });
    await users.add({ id: 'svc-nightly', kind: 'service', roles: ['tracer'], tokenHash: issueServiceToken().hash });
    await users.add({ id: 'svc-idle', kind: 'service', roles: ['operator'], tokenHash: issueServiceToken().hash });
    audit = await openTestAudit(dataDir);
    const sample = (await readFile('samples/cohort-small.csv', 'utf8')).split('\n').slice(0, 6).join('\n');
    await mkdir(path.join(dir, 'extracts'), { recursive: true });
    await writeFile(path.join(dir, 'extracts', 'older.csv'), `${sample}\n`);
    await writeFile(path.join(dir, 'extracts', '.hidden.csv'), 'not this\n');
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(path.join(dir, 'extracts', 'pas-extract.csv'), `${sample}\n`);
    await writeFile(path.join(dir, 'extracts', 'next.csv.part'), 'still being written\n');
    const lines = (await readFile('samples/cohort-small.csv', 'utf8')).split('\n');
    await writeFile(path.join(dir, 'retried-extract.csv'), `${[lines[0], ...lines.slice(6, 10)].join('\n')}\n`);
    const schedules = {
      schedules: [
        { name: 'nightly', cron: '*/2 * * * * *', input: 'extracts', out: 'results', owner: 'svc-nightly' },
        { name: 'broken', cron: '*/2 * * * * *', input: 'no-such-extract.csv', out: 'results', owner: 'svc-nightly' },
        { name: 'unowned', cron: '0 3 * * *', input: 'extracts', out: 'results', owner: 'svc-idle' },
        { name: 'retried', cron: '0 4 * * *', input: 'retried-extract.csv', out: 'results', owner: 'svc-nightly' },
      ],
    };
    await writeFile(path.join(dir, 'schedules.json'), JSON.stringify(schedules));
    const usersForRuns = await recordedUsers(dataDir);
    deps = {
      dataDir,
      schedulesFile: path.join(dir, 'schedules.json'),
      intake: { dataDir, provider: SIMULATOR_PROVIDER, duplicateWindowHours: 24 },
      runner: embeddedRunner(dataDir, { caller: client, audit, maxInFlight: 4 }),
      submitterFor: (owner) => serviceAccountSubmitter(usersForRuns, audit, owner, 'urn:test'),
    };
  });
  afterAll(async () => {
    client.close();
    await simulator.close();
    await audit?.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('installs the file\'s schedules idempotently, fires them, traces the newest input once per slot, and records failures with their reason', async () => {
    const queue = openScheduleQueue(redis, prefix);
    const { loadSchedules } = await import('../../src/intake/schedules/schedule-file.js');
    const schedules = await loadSchedules(deps.schedulesFile);
    const firstSync = await syncSchedules(queue, schedules);
    expect(firstSync.installed).toEqual(['nightly', 'broken', 'unowned', 'retried']);
    await syncSchedules(queue, schedules);
    expect((await queue.getJobSchedulers(0, -1)).map((j) => j.key).sort()).toEqual(['broken', 'nightly', 'retried', 'unowned']);

    // Two workers on the one queue: each slot is traced by one of them.
    const workers = [0, 1].map(() => new Worker<ScheduledJobData>('schedule', scheduledJobProcessor(deps), { connection: connectTestRedis(), prefix, concurrency: 2 }));
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const [nightly, broken] = [await listRuns(dataDir, 'nightly'), await listRuns(dataDir, 'broken')];
        const done = nightly.filter((r) => r.state !== 'running').length >= 3 && broken.length >= 1;
        if (done) break;
        if (Date.now() > deadline) throw new Error(`runs did not come: ${JSON.stringify({ nightly, broken })}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }

    const nightly = await listRuns(dataDir, 'nightly');
    const slots = nightly.map((r) => r.slot);
    expect(new Set(slots).size).toBe(slots.length);
    const submitted = nightly.filter((r) => r.state === 'submitted');
    // The same extract again is not traced again: one batch, the later runs failed naming it.
    expect(submitted).toHaveLength(1);
    const batch = await loadBatch(dataDir, submitted[0]!.batchId!);
    expect(batch.options).toMatchObject({ user: 'svc-nightly', priority: 'bulk' });
    expect(path.basename(batch.inputPath)).toBe('pas-extract.csv');
    const later = nightly.filter((r) => r.state === 'failed');
    expect(later.length).toBeGreaterThanOrEqual(1);
    expect(later[0]!.reason).toContain(`the same file as batch ${batch.id}`);
    // Outputs in a folder of the run's own, named by its slot.
    const runFolders = await readdir(path.join(dir, 'results'));
    expect(runFolders.some((f) => f.endsWith('Z-nightly'))).toBe(true);

    const [broken] = await listRuns(dataDir, 'broken');
    expect(broken).toMatchObject({ state: 'failed' });
    expect(broken!.reason).toMatch(/no-such-extract\.csv cannot be read \(ENOENT\)/);

    const statuses = await scheduleStatuses(queue, dataDir, schedules);
    expect(statuses.find((s) => s.name === 'broken')!.lastOutcome).toMatch(/^failed: input .* cannot be read/);
    expect(statuses.find((s) => s.name === 'unowned')).toMatchObject({ lastOutcome: 'not run yet', next: expect.stringMatching(/T\d\d:00:00\.000Z$/) });

    // A schedule taken out of the file is taken out of Redis.
    const sync = await syncSchedules(queue, schedules.filter((s) => s.name !== 'broken'));
    expect(sync.removed).toEqual(['broken']);
    await syncSchedules(queue, []);
    await queue.close();
  }, 90_000);

  it('traces one slot once whoever asks again, lets the same job take up its own claim after a crash, and refuses an owner that may not submit', async () => {
    const slot = new Date('2026-12-01T02:30:00Z');
    const first = await runScheduledSlot(deps, 'unowned', slot, 'job-a');
    expect(first).toMatchObject({ state: 'failed', late: true });
    expect(first.reason).toContain('owner "svc-idle" may not submit batches');
    // Another job for the same slot (a restart, a second worker, BullMQ repeating it): the record stands.
    const again = await runScheduledSlot(deps, 'unowned', slot, 'job-b');
    expect(again).toEqual(first);
    expect((await listRuns(dataDir, 'unowned')).filter((r) => r.slot === slot.toISOString())).toHaveLength(1);
  });

  it('a job retried after its crash does not take as its own the batch a later slot\'s run made meanwhile', async () => {
    const early = new Date('2026-12-02T04:00:00Z');
    // Its job claimed the slot a moment ago and died before it submitted anything.
    await claimSlot(deps.dataDir, { schedule: 'retried', slot: early.toISOString(), jobId: 'job-x', startedAt: new Date(Date.now() - 1000).toISOString(), late: true });
    const later = await runScheduledSlot(deps, 'retried', new Date('2026-12-03T04:00:00Z'), 'job-y');
    expect(later).toMatchObject({ state: 'submitted', late: true });
    // BullMQ retries job-x once workers return: the extract was traced, by the later run.
    const retried = await runScheduledSlot(deps, 'retried', early, 'job-x');
    expect(retried).toMatchObject({ state: 'failed', jobId: 'job-x' });
    expect(retried.reason).toContain(`the same file as batch ${later.batchId}`);
    const deadline = Date.now() + 30_000;
    while ((await loadBatch(deps.dataDir, later.batchId!)).state !== 'assembled' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await loadBatch(deps.dataDir, later.batchId!)).state).toBe('assembled');
  });
});

describe('config/schedules.example.json', () => {
  it('is a valid schedules file whose times avoid the clock changes', async () => {
    const { loadSchedules } = await import('../../src/intake/schedules/schedule-file.js');
    const schedules = await loadSchedules('config/schedules.example.json');
    expect(schedules.map((s) => s.name)).toEqual(['pas-nightly', 'gp-registrations-weekly']);
    for (const s of schedules) expect(firesNearClockChange(s.cron, s.timezone, new Date('2026-12-06T00:00:00Z'))).toEqual([]);
  });
});
