import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../../src/cli/errors.js';
import { asCliError } from '../../src/cli/trace-preflight.js';
import { OutputFolderError } from '../../src/csv/output/output-folder.js';
import { InputFileError } from '../../src/csv/read-input.js';
import { OutputsTakenError } from '../../src/pipeline/output-ownership.js';

describe('asCliError', () => {
  it('gives exit 4 for a rejected input, 2 for output problems before submitting and 1 after the run', () => {
    const cases: Array<[unknown, 'before' | 'after', number, RegExp]> = [
      [new InputFileError('no_rows', 'The file has no data rows.'), 'before', EXIT.fileRejected, /^The file was not traced/],
      [new OutputFolderError('/x', 'not_a_directory'), 'before', EXIT.usage, /^Nothing was traced: .*--out/],
      [new OutputFolderError('/x', 'not_writable', 'EACCES'), 'after', EXIT.failure, /traced results are kept.*resume/],
      [new OutputsTakenError('/x/a.results.csv', 'b1', '/x/a.results.csv already exists'), 'before', EXIT.usage, /already exists/],
      [new OutputsTakenError('/x/a.results.csv', 'b1', 'batch b2 will not replace'), 'after', EXIT.failure, /will not replace/],
    ];
    for (const [err, stage, exitCode, message] of cases) {
      const cli = asCliError(err, stage) as CliError;
      expect(cli).toBeInstanceOf(CliError);
      expect(cli.exitCode).toBe(exitCode);
      expect(cli.message).toMatch(message);
    }
  });

  it('passes any other error through untouched', () => {
    const other = new Error('disk on fire');
    expect(asCliError(other, 'after')).toBe(other);
  });
});
