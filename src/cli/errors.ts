/**
 * Exit codes of the pds-trace command, so schedulers and scripts can tell failures apart. README
 * "Exit codes" lists them; test/cli/error-paths.test.ts walks every path that ends with one.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  fileRejected: 4,
  smspUnreachable: 5,
  denied: 6,
  /** The batch was cancelled (`pds-trace cancel`) before it finished: no outputs were written. */
  cancelled: 7,
  /** Stopped by Ctrl+C (SIGINT) or SIGTERM: 128 + SIGINT's number, as shells report it. */
  interrupted: 130,
} as const;

/** A failure the command reports in one clear message and an exit code, without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
  }
}
