import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from '../../audit/file-lock.js';
import { writeFileAtomic } from '../../csv/output/atomic-file.js';
import type { Logger } from '../../log.js';
import { loadBatch, type BatchMeta } from '../../pipeline/batch.js';
import { BatchWatcher } from '../../pipeline/watch-batch.js';
import { DuplicateInputError } from '../duplicate-check.js';
import type { BatchRunner } from '../runners.js';
import { submit, type IntakeSettings } from '../submit.js';
import type { Submitter } from '../submitter.js';
import { ensureWatchFolders, watchFolderPaths, type WatchFolderPaths } from './folder-layout.js';
import { SET_ASIDE_REASONS, writeFailureNote } from './failure-note.js';
import { loadWatchFolderSettings, WatchFolderSettingsError, type WatchFolderSettings } from './folder-settings.js';
import { claimFile, isIgnoredName, StableFiles } from './pick-up.js';

/**
 * One watched folder: files dropped into `inbox/` become bulk batches through the intake, signed
 * for by the watcher's service account (and the folder's named person), and end in `done/` with
 * their outputs in the output folder, or in `failed/` with `<name>.error.txt`.
 *
 * File events are hints, never the truth (network shares drop them, a restart misses them): every
 * event, every `reconcileMs` and the start run one reconcile that looks at the folders themselves.
 * An inbox file is claimed once complete (pick-up.ts); a claimed file whose batch is recorded is
 * followed (or, when its batch finished while no watcher ran, moved); a claimed file with no batch
 * recorded gets one. Who is making a claimed file's batch, and then which batch it has, is kept
 * beside it in `processing/` as a dotfile (ignored by every scan): written naming the watcher
 * process before it submits, and again with the batch once the batch exists. A watcher that dies
 * before its batch exists leaves a marker naming a dead process, and the file gets its batch from
 * the next watcher; one that dies after leaves a batch made from this very file, which the next
 * submission meets in the intake's duplicate check and takes up instead of failing.
 */

/** How long after its batch was made a claimed file may lack its marker while its maker lives. */
const MARKER_GRACE_MS = 60_000;

export interface FolderWatcherOptions {
  folder: string;
  /**
   * The folder's settings as checked at start: its output folder is made then. Each file is traced
   * with the settings `pds-trace.json` holds when the watcher submits it.
   */
  settings: WatchFolderSettings;
  intake: IntakeSettings;
  /** The watcher's service account; the folder's named person is added from `settings`. */
  submitter: Submitter;
  runner: BatchRunner;
  /** How long a file's size and modification time must stay unchanged before it is taken. */
  stableMs: number;
  /** How often to reconcile whatever the file events say. */
  reconcileMs: number;
  /** Shares without file events: reconcile every `pollMs` instead of watching. */
  pollMs?: number;
  logger?: Logger;
  /** Told of each file not traced, for the process's metrics; the watcher only reports. */
  onFileFailed?: (reason: WatchedFileFailure) => void;
}

/** Why a watched file was not traced: refused as a file, a duplicate, or an error left in processing/. */
export type WatchedFileFailure = 'rejected' | 'duplicate' | 'error';

interface BatchMarker {
  /** Absent while the batch is being made. */
  batchId?: string;
  /** The watcher process that made or took up the batch, to tell a live one from a dead one. */
  host: string;
  pid: number;
}

export class FolderWatcher {
  readonly paths: WatchFolderPaths;
  private readonly stable: StableFiles;
  private readonly handling = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private fsWatcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> = Promise.resolve();
  private again = false;
  private fullAgain = false;
  private stopped = false;

  constructor(private readonly options: FolderWatcherOptions) {
    this.paths = watchFolderPaths(options.folder);
    this.stable = new StableFiles(options.stableMs);
  }

  async start(): Promise<void> {
    await ensureWatchFolders(this.paths, this.options.settings.options.outDir);
    if (!this.options.pollMs) {
      this.fsWatcher = watch(this.paths.inbox, () => this.reconcileSoon(false));
      this.fsWatcher.on('error', (err) => this.options.logger?.warn('file events lost; reconciling on the timer', { folder: this.paths.root, error: err.message }));
    }
    let sinceFull = 0;
    const every = this.options.pollMs ?? this.options.reconcileMs;
    this.timer = setInterval(() => {
      // Polling looks at the inbox each time and at processing/ once per reconcile period.
      sinceFull += every;
      const full = sinceFull >= this.options.reconcileMs;
      if (full) sinceFull = 0;
      this.reconcileSoon(full);
    }, every);
    await this.reconcile();
  }

  /** Stops claiming; running batches are left to go on (queues) or stopped (embedded), and taken up on the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.fsWatcher?.close();
    clearInterval(this.timer);
    clearTimeout(this.settleTimer);
    this.abort.abort(new Error('watcher stopped'));
    await this.reconciling;
    await Promise.allSettled([...this.handling.values()]);
  }

  private reconcileSoon(full: boolean): void {
    if (this.stopped) return;
    this.again = true;
    this.fullAgain ||= full;
    this.reconciling = this.reconciling.then(async () => {
      if (!this.again || this.stopped) return;
      const wholeFolder = this.fullAgain;
      this.again = false;
      this.fullAgain = false;
      await this.reconcileOnce(wholeFolder).catch((err: Error) => this.options.logger?.error('reconcile failed', { folder: this.paths.root, error: err.message }));
    });
  }

  /** One look at inbox/ and processing/, as on start and every reconcile period. */
  async reconcile(): Promise<void> {
    this.reconcileSoon(true);
    await this.reconciling;
  }

  /**
   * Claims complete inbox files; with `full`, also takes up claimed files no live process is
   * handling (file events only ever say something changed in the inbox).
   */
  private async reconcileOnce(full: boolean): Promise<void> {
    if (full) {
      for (const name of await readdir(this.paths.processing)) {
        if (!isIgnoredName(name)) this.handle(path.join(this.paths.processing, name));
      }
    }
    const { ready, settling } = await this.stable.scan(this.paths.inbox);
    for (const name of ready) {
      this.stable.forget(name);
      const claimed = await claimFile(this.paths.inbox, this.paths.processing, name);
      if (claimed) this.handle(claimed);
    }
    if (settling) {
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => this.reconcileSoon(false), this.options.stableMs);
    }
  }

  private handle(claimed: string): void {
    if (this.handling.has(claimed) || this.stopped) return;
    const work = this.process(claimed)
      .catch((err: Error) => {
        // Left in processing/: the next reconcile tries again.
        if (this.stopped) return;
        this.options.onFileFailed?.('error');
        this.options.logger?.error('watched file not finished', { file: path.basename(claimed), error: err.message });
      })
      .finally(() => this.handling.delete(claimed));
    this.handling.set(claimed, work);
  }

  private async process(claimed: string): Promise<void> {
    const marker = await readMarker(claimed);
    if (marker?.batchId) {
      const othersRunIt = otherWatcherMayLive(marker);
      if (!othersRunIt) await writeMarker(claimed, marker.batchId);
      return this.finish(claimed, await this.takeUp(marker.batchId, othersRunIt));
    }
    // Another watcher on this host is making its batch now: left to it, looked at again next time.
    if (marker && marker.host === os.hostname() && otherWatcherMayLive(marker)) return;
    const makerDied = marker !== undefined && marker.host === os.hostname() && marker.pid !== process.pid;
    const { intake, runner } = this.options;
    let settings: WatchFolderSettings;
    try {
      settings = await this.currentSettings();
    } catch (err) {
      if (!(err instanceof WatchFolderSettingsError)) throw err;
      return this.fail(claimed, 'rejected', settingsReason(err), 'settings_invalid');
    }
    const submitter = { ...this.options.submitter, onBehalfOf: settings.onBehalfOf };
    let meta: BatchMeta;
    try {
      await writeMarker(claimed);
      const submitted = await submit(intake, { file: claimed, submitter, options: settings.options, wayIn: 'watch' }, runner, this.abort.signal);
      await writeMarker(claimed, submitted.batch.id);
      this.options.logger?.info('watched file submitted', { file: path.basename(claimed), batchId: submitted.batch.id });
      meta = await submitted.run.finished;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another watcher finished it
      if (!(err instanceof DuplicateInputError)) throw err;
      if (err.earlier.inputPath !== claimed) return this.fail(claimed, 'duplicate', duplicateReason(err), 'duplicate_input');
      // The batch of this very file, made before its marker named it: by a watcher here that died
      // (its marker named a dead process), or by another, which is followed, not run twice. A
      // watcher elsewhere writes its marker within moments of the batch; one that has not for a
      // while died in between, and the batch is taken up here.
      const makerGone = makerDied || (Date.now() - Date.parse(err.earlier.submittedAt) > MARKER_GRACE_MS && !(await readMarker(claimed))?.batchId);
      if (makerGone) await writeMarker(claimed, err.earlier.batchId);
      meta = await this.takeUp(err.earlier.batchId, !makerGone);
    }
    await this.finish(claimed, meta);
  }

  /** `pds-trace.json` as it is now, with the output folder it names made (owner-only) if new. */
  private async currentSettings(): Promise<WatchFolderSettings> {
    const settings = await loadWatchFolderSettings(this.paths);
    await mkdir(settings.options.outDir, { recursive: true, mode: 0o700 });
    return settings;
  }

  /**
   * A batch made earlier: finished, followed (another live watcher runs it), or taken up here. On
   * the queues taking up is safe either way (job ids are fixed); the embedded runner must not
   * trace a batch another process is tracing.
   */
  private async takeUp(batchId: string, othersMayRunIt: boolean): Promise<BatchMeta> {
    const meta = await loadBatch(this.options.intake.dataDir, batchId);
    if (meta.state !== 'created' && meta.state !== 'ingested') return meta;
    if (othersMayRunIt && this.options.runner.kind === 'embedded') {
      return new BatchWatcher(this.options.intake.dataDir, batchId).waitUntilFinished({ signal: this.abort.signal });
    }
    return (await this.options.runner.resume(meta, this.abort.signal)).finished;
  }

  private async finish(claimed: string, meta: BatchMeta): Promise<void> {
    if (meta.state === 'assembled') {
      await moveOnce(claimed, path.join(this.paths.done, path.basename(claimed)));
      await rm(markerPath(claimed), { force: true });
      return;
    }
    if (meta.state === 'rejected') {
      return this.fail(claimed, 'rejected', `it was refused as a file: ${meta.rejection?.message ?? 'rejected'} (batch ${meta.id}). Correct the file and drop it into inbox/ again.`, meta.rejection?.reason ?? 'rejected');
    }
    // Any other state (stopped by a person): leave it where it is, with its marker, for them.
    this.options.logger?.warn('watched file left in processing/', { file: path.basename(claimed), batchId: meta.id, state: meta.state });
  }

  /** Into failed/, beside a note saying why in words an administrator can act on. */
  private async fail(claimed: string, failure: WatchedFileFailure, reason: string, code: string): Promise<void> {
    const name = path.basename(claimed);
    this.options.onFileFailed?.(failure);
    await writeFailureNote(this.paths.failed, name, reason, code);
    await moveOnce(claimed, path.join(this.paths.failed, name));
    await rm(markerPath(claimed), { force: true });
    this.options.logger?.warn('watched file failed', { file: name });
  }
}

function duplicateReason(err: DuplicateInputError): string {
  return (
    `${err.message}. Nothing is wrong with the file; the same bytes are not traced twice within ${err.windowHours} hours ` +
    `(PDS_TRACE_DUPLICATE_WINDOW_HOURS). To trace them again, drop the file into inbox/ once that batch has finished and the ` +
    `window has passed, or trace it with pds-trace trace --again.`
  );
}

function settingsReason(err: WatchFolderSettingsError): string {
  return (
    `${SET_ASIDE_REASONS.settings_invalid}: ${err.problems.join('; ')}. Nothing is wrong with the file; correct ${path.basename(err.file)} ` +
    `(or the folder's settings on the web service's Folders page), then drop the file into inbox/ again.`
  );
}

function markerPath(claimed: string): string {
  return path.join(path.dirname(claimed), `.${path.basename(claimed)}.batch.json`);
}

async function readMarker(claimed: string): Promise<BatchMarker | undefined> {
  try {
    return JSON.parse(await readFile(markerPath(claimed), 'utf8')) as BatchMarker;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** `batchId` absent: this process is making the file's batch now. */
async function writeMarker(claimed: string, batchId?: string): Promise<void> {
  const marker: BatchMarker = { ...(batchId ? { batchId } : {}), host: os.hostname(), pid: process.pid };
  await writeFileAtomic(markerPath(claimed), `${JSON.stringify(marker)}\n`);
}

/**
 * Whether the watcher a marker names may still be at work on its file: one on another host cannot
 * be asked; one here is alive or not; this very process is not (the file came back to it, so its
 * earlier attempt ended).
 */
function otherWatcherMayLive(marker: BatchMarker): boolean {
  if (marker.host !== os.hostname()) return true;
  return marker.pid !== process.pid && processAlive(marker.pid);
}

/** Of watchers finishing the same file, the first moves it; for the rest it is already gone. */
async function moveOnce(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
