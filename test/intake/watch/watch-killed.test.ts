import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withSeenLock } from '../../../src/intake/seen-inputs.js';
import { batchPaths, listBatchIds, loadBatch } from '../../../src/pipeline/batch.js';
import { doneChunks } from '../../../src/pipeline/queues.js';
import { writeCohort } from '../../../src/simulator/cohort.js';
import { provisionServiceAccount } from '../../support/accounts.js';
import { readCsv, tempDir } from '../../support/pipeline.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { runCli, type CliProcess } from '../../support/worker-process.js';
import { visibleNames, waitFor } from '../../support/wait.js';

/**
 * `pds-trace watch` as a real process, killed with SIGKILL at the moments that matter (issue 16:
 * "the watcher SIGKILLed between claim and batch"), then started again: the file ends in done/
 * with one batch whose results hold every row exactly once.
 *
 * The moment between claim and batch is made certain, not hoped for: the test holds the intake's
 * lock for the file's bytes (the lock every submission of those bytes takes before its batch is
 * made, src/intake/seen-inputs.ts), so the watcher claims the file, writes its marker and then
 * waits, batchless, until it is killed.
 */

const POPULATION = { seed: 'watch-killed', size: 2000 };

const visible = visibleNames;


describe('pds-trace watch killed with SIGKILL, then started again', () => {
  let simulator: TestSimulator;
  let dir: string;
  let header: string;
  let rows: string[];
  const running: CliProcess[] = [];
  const logs = () => running.map((p) => p.output()).join('\n---\n');

  beforeAll(async () => {
    dir = await tempDir('watch-killed');
    // Answers slow enough that a batch is still being traced when the test kills its watcher.
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 40 });
    const cohort = await writeCohort({ ...POPULATION, rows: 120, outDir: `${dir}/cohort`, name: 'cohort' });
    [header, ...rows] = (await readFile(cohort.csvPath, 'utf8')).trimEnd().split('\n') as [string, ...string[]];
  });
  afterEach(async () => {
    for (const p of running.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      await p.exited;
    }
  });
  afterAll(async () => {
    await simulator?.close();
  });

  async function startWatch(folder: string, env: Record<string, string>): Promise<CliProcess> {
    const watch = runCli(['watch', folder, '--stable', '300', '--embedded'], { ...env, SMSP_MAX_IN_FLIGHT: '2' });
    running.push(watch);
    await waitFor('the watcher to start', async () => (watch.output().includes('pds-trace watching') ? true : watch.child.exitCode !== null ? Promise.reject(new Error(`watch exited:\n${watch.output()}`)) : undefined), { context: logs, timeoutMs: 60_000, intervalMs: 25 });
    return watch;
  }

  async function kill(watch: CliProcess): Promise<void> {
    watch.child.kill('SIGKILL');
    expect(await watch.exited).toBe('SIGKILL');
  }

  async function setUp(name: string): Promise<{ folder: string; dataDir: string; env: Record<string, string> }> {
    const folder = `${dir}/${name}`;
    const dataDir = `${dir}/${name}-data`;
    const env = { ...smspClientEnv(simulator, dataDir), ...(await provisionServiceAccount(dataDir)) };
    return { folder, dataDir, env };
  }

  /** The file's one batch: assembled, every input row once in its results, and in the outbox. */
  async function expectTracedOnce(folder: string, dataDir: string, content: string, claimedName: string): Promise<void> {
    const ids = await listBatchIds(dataDir);
    expect(ids, logs()).toHaveLength(1);
    const meta = await loadBatch(dataDir, ids[0]!);
    expect(meta.state).toBe('assembled');
    expect(meta.inputPath).toBe(`${folder}/processing/${claimedName}`);
    const results = readCsv(meta.outputs!.results);
    const inputRows = content.trimEnd().split('\n').length - 1;
    expect(results).toHaveLength(inputRows);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(inputRows);
    expect(await visible(`${folder}/done`)).toEqual([claimedName]);
    expect(await readFile(`${folder}/done/${claimedName}`, 'utf8')).toBe(content);
    expect(await readdir(`${folder}/processing`)).toEqual([]);
    expect(await visible(`${folder}/failed`)).toEqual([]);
    expect(await visible(`${folder}/outbox`)).toContain(claimedName.replace(/\.csv$/, '.results.csv'));
  }

  it('killed after claiming a file into processing/ and before its batch exists: the next watcher makes the one batch', async () => {
    const { folder, dataDir, env } = await setUp('before-batch');
    const content = `${[header, ...rows.slice(0, 30)].join('\n')}\n`;
    const sha256 = createHash('sha256').update(content).digest('hex');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holding = withSeenLock(dataDir, sha256, async () => {
      locked();
      await held;
    });
    try {
      await lockTaken;
      const first = await startWatch(folder, env);
      await writeFile(`${folder}/inbox/pas-export.csv`, content);
      // Claimed, and its maker named beside it: the watcher is inside the intake, before the batch.
      const claimedName = await waitFor('the claim and its marker', async () => {
        const [name] = await visible(`${folder}/processing`);
        return name && (await readdir(`${folder}/processing`)).includes(`.${name}.batch.json`) ? name : undefined;
      }, { context: logs, timeoutMs: 90_000, intervalMs: 25 });
      await kill(first);
      expect(await listBatchIds(dataDir)).toEqual([]);
      expect(await visible(`${folder}/inbox`)).toEqual([]);
      release();
      await holding;

      await startWatch(folder, env);
      await waitFor('the file in done/', async () => ((await visible(`${folder}/done`)).length > 0 ? true : undefined), { context: logs, timeoutMs: 90_000, intervalMs: 25 });
      await expectTracedOnce(folder, dataDir, content, claimedName);
    } finally {
      release();
      await holding;
    }
  }, 180_000);

  it('killed while its batch is being traced: the next watcher takes that batch up, no second batch, no row twice', async () => {
    const { folder, dataDir, env } = await setUp('mid-batch');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(folder, { recursive: true });
    await writeFile(`${folder}/pds-trace.json`, JSON.stringify({ chunkSize: 10 }));
    const content = `${[header, ...rows.slice(30, 120)].join('\n')}\n`;
    const first = await startWatch(folder, env);
    await writeFile(`${folder}/inbox/nightly.csv`, content);
    // Some chunks traced, not all: the batch is under way.
    const batchId = await waitFor('a batch part-traced', async () => {
      const [id] = await listBatchIds(dataDir);
      if (!id) return undefined;
      const meta = await loadBatch(dataDir, id).catch(() => undefined);
      if (meta?.state !== 'ingested') return undefined;
      const done = (await doneChunks(dataDir, meta)).size;
      return done >= 1 && done < meta.chunks!.length ? id : undefined;
    }, { context: logs, timeoutMs: 90_000, intervalMs: 25 });
    await kill(first);
    const [claimedName] = await visible(`${folder}/processing`);
    expect(claimedName).toMatch(/-nightly\.csv$/);
    const tracedBefore = await doneChunks(dataDir, await loadBatch(dataDir, batchId));
    const resultsBefore = new Map<number, string>();
    for (const chunk of tracedBefore) resultsBefore.set(chunk, await readFile(batchPaths(dataDir, batchId).chunkResults(chunk), 'utf8'));

    await startWatch(folder, env);
    await waitFor('the file in done/', async () => ((await visible(`${folder}/done`)).length > 0 ? true : undefined), { context: logs, timeoutMs: 90_000, intervalMs: 25 });
    await expectTracedOnce(folder, dataDir, content, claimedName!);
    // The chunks traced before the kill were not traced again.
    for (const [chunk, before] of resultsBefore) expect(await readFile(batchPaths(dataDir, batchId).chunkResults(chunk), 'utf8')).toBe(before);
  }, 180_000);
});
