import { readdir, stat, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OutputFolderError, prepareOutputFolder } from '../../../src/csv/output/output-folder.js';
import { tempDir } from '../../support/pipeline.js';

describe('prepareOutputFolder', () => {
  it('creates a missing folder, parents included, readable by its owner only', async () => {
    const dir = await tempDir('out-folder');
    await prepareOutputFolder(`${dir}/a/b`);
    expect((await stat(`${dir}/a/b`)).mode & 0o777).toBe(0o700);
    expect(await readdir(`${dir}/a/b`)).toEqual([]);
  });

  it('accepts an existing writable folder and leaves nothing behind', async () => {
    const dir = await tempDir('out-folder');
    await writeFile(`${dir}/keep.txt`, 'x');
    await prepareOutputFolder(dir);
    expect(await readdir(dir)).toEqual(['keep.txt']);
  });

  it('refuses a path that is a file, or that goes through one, naming the folder', async () => {
    const dir = await tempDir('out-folder');
    await writeFile(`${dir}/file`, 'x');
    for (const folder of [`${dir}/file`, `${dir}/file/sub`]) {
      const err = await prepareOutputFolder(folder).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutputFolderError);
      expect(err).toMatchObject({ problem: 'not_a_directory', folder });
      expect((err as Error).message).toContain(folder);
    }
  });

  // root writes through any mode bits, and these tests run as root in CI: sysfs refuses to create
  // a file for everyone, root included, so it stands for a folder nobody may write to.
  it('refuses a folder it cannot write to', async () => {
    await expect(prepareOutputFolder('/sys')).rejects.toMatchObject({ problem: 'not_writable', folder: '/sys' });
  });
});
