/**
 * Whose outputs a set of files in an output folder is, so that one batch never silently replaces
 * another's results.
 *
 * A batch's outputs are six files named after its input (`<name>.results.csv` … see
 * `output-paths.ts`). Two batches of files with the same name writing to the same folder (last
 * month's `cohort.csv` and this month's) would otherwise overwrite each other. The rule:
 *
 * - The set's owner is the batch its `<name>.summary.json` names (`batchId`). The summary is written
 *   last, so a set without one (or with an unreadable one) has no known owner: it is treated as
 *   someone else's, because nothing says it is ours.
 * - At submission (`assertOutputsFree`): if any of the six files exists, refuse, naming the file and
 *   its owner, unless the user said `--replace` (BatchOptions.replaceOutputs).
 * - At assemble (`claimOutputs`): writing is allowed when no file exists, when the set is this
 *   batch's own (`retry` rewriting its outputs), when the batch was submitted with `--replace`, or
 *   when the batch already claimed the set and found it as it is now (a crash between writing the
 *   results and writing the summary must not lock the batch out of its own half-written set).
 *   Otherwise (files that appeared after submission, from another batch or none known) assemble
 *   refuses with OutputsTakenError; the traced results stay in the batch folder, and `resume`
 *   assembles once the files are moved.
 *
 * The claim is a small file in the batch's own folder (no patient data): which set, and which owner
 * was found there when writing began.
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../csv/output/atomic-file.js';
import { batchPaths, type BatchMeta, type BatchOutputs } from './batch.js';

/** What is already at a set's paths. `owner` is null when no readable summary names a batch. */
export interface ExistingOutputs {
  files: string[];
  owner: string | null;
}

/** An output file exists and belongs to another batch, or to none known. Names files and batch ids only. */
export class OutputsTakenError extends Error {
  override readonly name = 'OutputsTakenError';
  constructor(
    /** The first existing output file, in the order of BatchOutputs. */
    readonly file: string,
    /** The batch its summary names; null when no summary says. */
    readonly owner: string | null,
    message: string,
  ) {
    super(message);
  }
}

export async function existingOutputs(outputs: BatchOutputs): Promise<ExistingOutputs> {
  const files: string[] = [];
  for (const file of Object.values(outputs)) if (await exists(file)) files.push(file);
  return { files, owner: files.length > 0 ? await summaryOwner(outputs.summaryJson) : null };
}

/** Before a batch exists: refuses any existing output unless the user asked to replace them. */
export async function assertOutputsFree(outputs: BatchOutputs, options: { replace: boolean }): Promise<void> {
  if (options.replace) return;
  const found = await existingOutputs(outputs);
  if (found.files.length === 0) return;
  throw new OutputsTakenError(
    found.files[0]!,
    found.owner,
    `${found.files[0]} already exists and ${ownerText(found.owner)}. Give another --out, move those files away, or pass --replace to let this batch replace them when it finishes`,
  );
}

interface OutputsClaim {
  results: string;
  /** The owner found when this batch began writing: null for none known (or no files at all). */
  found: string | null;
}

/** At assemble, before the first output is written: see the rules at the top of this file. */
export async function claimOutputs(dataDir: string, meta: BatchMeta, outputs: BatchOutputs): Promise<void> {
  const claimPath = batchPaths(dataDir, meta.id).outputsClaim;
  const found = await existingOutputs(outputs);
  const claim = await readClaim(claimPath);
  const ours = claim !== null && claim.results === outputs.results;
  const resuming = ours && claim.found === found.owner;
  const allowed = found.files.length === 0 || found.owner === meta.id || meta.options.replaceOutputs === true || resuming;
  if (!allowed) {
    throw new OutputsTakenError(
      found.files[0]!,
      found.owner,
      `batch ${meta.id} will not replace ${found.files[0]}: it ${ownerText(found.owner)}, and it appeared after this batch was submitted. The traced results are kept; move those files away and run \`pds-trace resume ${meta.id}\``,
    );
  }
  if (!ours) await writeFileAtomic(claimPath, `${JSON.stringify({ results: outputs.results, found: found.owner } satisfies OutputsClaim)}\n`);
}

function ownerText(owner: string | null): string {
  return owner ? `belongs to batch ${owner}` : 'no summary in that folder says which batch wrote it';
}

async function summaryOwner(summaryJson: string): Promise<string | null> {
  try {
    const summary = JSON.parse(await readFile(summaryJson, 'utf8')) as { batchId?: unknown };
    return typeof summary.batchId === 'string' ? summary.batchId : null;
  } catch {
    return null; // missing or unreadable: nothing says whose the set is
  }
}

async function readClaim(claimPath: string): Promise<OutputsClaim | null> {
  try {
    return JSON.parse(await readFile(claimPath, 'utf8')) as OutputsClaim;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
