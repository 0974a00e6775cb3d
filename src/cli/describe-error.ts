import { redactString } from '../log.js';

/** Node's words for the file errors a user can act on. */
const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};

/**
 * An error no command turned into a CliError, as one line for the user: a file error says which
 * file and what is wrong with it; anything else is a fault in pds-trace, said as such. The stack
 * only when asked for (LOG_LEVEL=debug), for the report. The fault's message is masked like a log
 * line, because it can quote what it failed on; a file error names the user's own path as given.
 */
export function describeUnexpected(err: unknown, withStack = false): string {
  const file = fileProblem(err);
  if (file) return file;
  const message = err instanceof Error ? err.message : String(err);
  const stack = withStack && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return redactString(
    `unexpected failure: ${message}. This is a fault in pds-trace: please report it with the command you ran (LOG_LEVEL=debug shows where it happened)${stack}`,
  );
}

/** `<path>: no such file or folder (ENOENT)` for a file error Node names a path for, else undefined. */
export function fileProblem(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  const problem = e?.code ? FILE_PROBLEMS[e.code] : undefined;
  return problem && e?.path ? `${e.path}: ${problem} (${e.code})` : undefined;
}
