import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { assertHasRows, InputFileError, openInput } from '../../../src/csv/read-input.js';
import { tempDir } from '../../support/pipeline.js';

const corpus = (name: string) => path.join('test/csv/corpus', name);

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (err: unknown) => err,
  );
}

describe('a file with no data rows', () => {
  it.each(['empty.csv', 'bom-only.csv', 'blank-lines-only.csv', 'header-only.csv', 'header-only-unrecognised.csv'])('%s is rejected as no_rows by openInput and by the cheap pre-check alike', async (name) => {
    for (const err of [await failure(openInput(corpus(name))), await failure(assertHasRows(corpus(name)))]) {
      expect(err).toBeInstanceOf(InputFileError);
      expect((err as InputFileError).reason).toBe('no_rows');
    }
  });

  it('lets through files that have rows, whatever their encoding, without deciding anything else', async () => {
    for (const name of ['windows-1252.csv', 'utf16le-no-bom.csv', 'utf16be-bom.csv', 'unmappable-columns.csv', 'mesh-dorset-bom-column-names.csv']) {
      await expect(assertHasRows(corpus(name)), name).resolves.toBeUndefined();
    }
  });

  it('counts the header from the --mapping file: a header-less file with one row has a row', async () => {
    const dir = await tempDir('no-rows-mapping');
    await writeFile(`${dir}/map.txt`, 'header = none\nnhsNumber = 1\ndateOfBirth = 2\n');
    await writeFile(`${dir}/one.csv`, '9990000018,2001-01-01\n');
    await expect(assertHasRows(`${dir}/one.csv`, { mappingFile: `${dir}/map.txt` })).resolves.toBeUndefined();
    await writeFile(`${dir}/map-header.txt`, 'nhsNumber = NHS\ndateOfBirth = DOB\n');
    await writeFile(`${dir}/header.csv`, 'NHS,DOB\n');
    const err = await failure(assertHasRows(`${dir}/header.csv`, { mappingFile: `${dir}/map-header.txt` }));
    expect((err as InputFileError).reason).toBe('no_rows');
  });
});
