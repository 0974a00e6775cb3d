/**
 * The folder a batch writes its outputs into (`--out`, or beside the input), made ready before
 * any request is sent: after hours of tracing, a folder that cannot take the results would leave
 * them stranded in the batch's work folder.
 *
 * A missing folder is created owner-only, like every folder holding patient data here. An existing
 * one must be a directory we can write to, proved by creating and removing a probe file: access(2)
 * says yes to root on a read-only mount or under a denying ACL, a probe does not lie.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export type OutputFolderProblem = 'not_a_directory' | 'not_writable';

/** The output folder cannot be used. Names the folder (a path the user typed), never file contents. */
export class OutputFolderError extends Error {
  override readonly name = 'OutputFolderError';
  constructor(
    readonly folder: string,
    readonly problem: OutputFolderProblem,
    /** The system's error code (ENOTDIR, EACCES, EROFS…), when there was one. */
    readonly code?: string,
  ) {
    super(
      problem === 'not_a_directory'
        ? `the output folder ${folder} is not a folder (a file, or a path through one)`
        : `the output folder ${folder} cannot be written to${code ? ` (${code})` : ''}`,
    );
  }
}

/** Creates `folder` (owner-only) if missing, then proves it is a writable directory. */
export async function prepareOutputFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw asFolderError(folder, err);
  }
  const info = await stat(folder).catch((err: unknown) => {
    throw asFolderError(folder, err);
  });
  if (!info.isDirectory()) throw new OutputFolderError(folder, 'not_a_directory');
  const probe = path.join(folder, `.pds-trace-write-check-${randomBytes(4).toString('hex')}`);
  try {
    await (await open(probe, 'wx', 0o600)).close();
    await unlink(probe);
  } catch (err) {
    throw asFolderError(folder, err);
  }
}

/** The system errors a user can fix by choosing another folder; anything else is passed on as is. */
function asFolderError(folder: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  // mkdir -p gives EEXIST when the path itself is a file, ENOTDIR when a file is on the way.
  if (code === 'ENOTDIR' || code === 'EEXIST') return new OutputFolderError(folder, 'not_a_directory', code);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new OutputFolderError(folder, 'not_writable', code);
  return err;
}
