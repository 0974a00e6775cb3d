import { createBatchFromStaged, discardStaged, stageInput, type BatchMeta, type BatchOptions } from '../pipeline/batch.js';
import { PRIORITY_OF, type PriorityClass, type WayIn } from '../pipeline/priority.js';
import type { Provider } from '../pipeline/provider.js';
import { DuplicateInputError, findEarlierBatch, type EarlierBatch } from './duplicate-check.js';
import type { BatchRunner, RunningBatch } from './runners.js';
import { recordSeen, withSeenLock } from './seen-inputs.js';
import type { Submitter } from './submitter.js';

/**
 * How a file becomes a batch, whoever brings it (ARCHITECTURE "intake"): the CLI's `trace`, a
 * watched folder, a schedule and the web page all call `submit`, and none of them repeats batch
 * creation, the duplicate check, the submission audit or the hand-over to a runner.
 *
 * The file is hashed once, as the batch's own copy is made (stageInput); the duplicate check and
 * the record of the new batch happen under one lock per input hash, so of two submissions of the
 * same bytes at once the second sees the first.
 */

/** What the way in chose for the batch; who submits it and its priority come from the submission. */
export type TraceOptions = Omit<BatchOptions, 'user' | 'roles' | 'origin' | 'onBehalfOf' | 'priority' | 'wayIn'>;

export interface Submission {
  /**
   * The file as the way in claimed it: for the CLI the file as given, for a watched folder its
   * copy renamed into processing/. Read once, here.
   */
  file: string;
  submitter: Submitter;
  options: TraceOptions;
  /** How the file came in; absent: the command line. */
  wayIn?: WayIn;
  /** Its priority class; absent: the way in's (PRIORITY_OF). */
  priority?: PriorityClass;
  /** Trace the same bytes again even though an earlier batch of them counts (`trace --again`). */
  again?: boolean;
}

export interface IntakeSettings {
  dataDir: string;
  /** The SMSP provider the batch is bound to (src/pipeline/provider.ts). */
  provider: Provider;
  /** PDS_TRACE_DUPLICATE_WINDOW_HOURS. */
  duplicateWindowHours: number;
  now?: () => Date;
}

export interface SubmittedBatch {
  batch: BatchMeta;
  /** The earlier batch of the same bytes that `again` overrode, if any. */
  overrode?: EarlierBatch;
  run: RunningBatch;
}

/**
 * Creates the batch (unless it duplicates an earlier one: DuplicateInputError, audited as
 * refused), records the submission in the audit trail, and hands the batch to `runner`.
 */
export async function submit(settings: IntakeSettings, submission: Submission, runner: BatchRunner, signal?: AbortSignal): Promise<SubmittedBatch> {
  const created = await createUnlessDuplicate(settings, submission);
  const { batch, overrode } = created;
  const { submitter } = submission;
  const detail = [
    `sha256=${batch.inputSha256}`,
    `way_in=${batch.options.wayIn} priority=${batch.options.priority}`,
    submitter.onBehalfOf ? `for=${submitter.onBehalfOf}` : undefined,
    overrode ? `again_after=${overrode.batchId}` : undefined,
  ];
  await submitter.record([{ kind: 'batch_submitted', batchId: batch.id, outcome: 'submitted', detail: detail.filter(Boolean).join(' ') }]);
  return { batch, overrode, run: await runner.start(batch, signal) };
}

async function createUnlessDuplicate(settings: IntakeSettings, submission: Submission): Promise<{ batch: BatchMeta; overrode?: EarlierBatch }> {
  const { dataDir } = settings;
  const staged = await stageInput(dataDir, submission.file);
  try {
    return await withSeenLock(dataDir, staged.sha256, async () => {
      const now = settings.now?.() ?? new Date();
      const earlier = await findEarlierBatch(dataDir, staged.sha256, { windowHours: settings.duplicateWindowHours, now });
      if (earlier && !submission.again) {
        await submission.submitter.record([
          { kind: 'batch_submitted', outcome: 'refused_duplicate', detail: `sha256=${staged.sha256} duplicate_of=${earlier.batchId}` },
        ]);
        throw new DuplicateInputError(staged.sha256, earlier, settings.duplicateWindowHours);
      }
      const batch = await createBatchFromStaged(dataDir, staged, batchOptionsFor(submission), settings.provider, now);
      // After the batch exists: a crash between the two costs one missed refusal, never a batch.
      await recordSeen(dataDir, staged.sha256, { batchId: batch.id, submittedAt: batch.createdAt });
      return { batch, overrode: earlier };
    });
  } finally {
    await discardStaged(staged);
  }
}

function batchOptionsFor(submission: Submission): BatchOptions {
  const { submitter } = submission;
  return {
    ...submission.options,
    user: submitter.principal.userId,
    roles: [...submitter.principal.roles],
    origin: submitter.origin,
    ...(submitter.onBehalfOf ? { onBehalfOf: submitter.onBehalfOf } : {}),
    wayIn: submission.wayIn ?? 'cli',
    priority: submission.priority ?? PRIORITY_OF[submission.wayIn ?? 'cli'],
  };
}
