import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicFileError, openAtomicFile, writeFileAtomic } from '../../../src/csv/output/atomic-file.js';
import { tempDir, type TempDir } from './fixtures.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

describe('openAtomicFile', () => {
  it('shows nothing under the final name until commit, then the whole content', async () => {
    const final = tmp.file('results.csv');
    const file = await openAtomicFile(final);
    file.stream.write('first,');
    expect(await tmp.list()).toEqual([path.basename(file.partPath)]);
    expect(file.partPath.startsWith(`${final}.`) && file.partPath.endsWith('.part')).toBe(true);
    file.stream.write('second\r\n');
    await file.commit();
    expect(await tmp.list()).toEqual(['results.csv']);
    expect(await readFile(final, 'utf8')).toBe('first,second\r\n');
  });

  it('creates the file owner-only (0600) by default', async () => {
    const file = await openAtomicFile(tmp.file('a.csv'));
    expect(await modeOf(file.partPath)).toBe(0o600);
    await file.commit();
    expect(await modeOf(tmp.file('a.csv'))).toBe(0o600);
  });

  it('sets a requested mode exactly, whatever the umask would allow', async () => {
    const previous = process.umask(0o077);
    try {
      const file = await openAtomicFile(tmp.file('b.csv'), { mode: 0o640 });
      await file.commit();
    } finally {
      process.umask(previous);
    }
    expect(await modeOf(tmp.file('b.csv'))).toBe(0o640);
  });

  it('leaves no file at all after abort', async () => {
    const file = await openAtomicFile(tmp.file('c.csv'));
    file.stream.write('half a row');
    await file.abort();
    expect(await tmp.list()).toEqual([]);
  });

  it('replaces an existing file whole on commit and leaves it untouched on abort', async () => {
    const final = tmp.file('d.csv');
    await writeFile(final, 'old');
    const aborted = await openAtomicFile(final);
    aborted.stream.write('new but abandoned');
    await aborted.abort();
    expect(await readFile(final, 'utf8')).toBe('old');

    const committed = await openAtomicFile(final);
    committed.stream.write('new');
    await committed.commit();
    expect(await readFile(final, 'utf8')).toBe('new');
    expect(await tmp.list()).toEqual(['d.csv']);
  });

  it('gives two writers of the same output separate part files, the last commit winning whole', async () => {
    const final = tmp.file('e.csv');
    const one = await openAtomicFile(final);
    const two = await openAtomicFile(final);
    expect(one.partPath).not.toBe(two.partPath);
    one.stream.write('one'.repeat(1000));
    two.stream.write('two');
    await one.commit();
    await two.commit();
    expect(await readFile(final, 'utf8')).toBe('two');
  });

  it('refuses to commit after abort, with the file and state named', async () => {
    const file = await openAtomicFile(tmp.file('f.csv'));
    await file.abort();
    const error = await file.commit().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AtomicFileError);
    expect(error).toMatchObject({ state: 'aborted', file: tmp.file('f.csv') });
  });

  it('keeps a committed file when abort is called afterwards (cleanup paths may call both)', async () => {
    const file = await openAtomicFile(tmp.file('g.csv'));
    file.stream.write('kept');
    await file.commit();
    await file.abort();
    expect(await readFile(tmp.file('g.csv'), 'utf8')).toBe('kept');
  });

  it('rejects commit after a write error and removes the part file', async () => {
    const file = await openAtomicFile(tmp.file('h.csv'));
    file.stream.write('some');
    file.stream.destroy(new Error('disk full'));
    await expect(file.commit()).rejects.toThrow('disk full');
    expect(await tmp.list()).toEqual([]);
  });
});

describe('writeFileAtomic', () => {
  it('writes the whole content owner-only with nothing left beside it', async () => {
    const final = tmp.file('summary.json');
    await writeFileAtomic(final, '{"rows":3}\n');
    expect(await readFile(final, 'utf8')).toBe('{"rows":3}\n');
    expect(await modeOf(final)).toBe(0o600);
    expect(await tmp.list()).toEqual(['summary.json']);
  });

  it('writes a Buffer byte for byte', async () => {
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x0d, 0x0a]);
    await writeFileAtomic(tmp.file('raw.bin'), bytes);
    expect(await readFile(tmp.file('raw.bin'))).toEqual(bytes);
  });

  it('fails without creating anything when the folder does not exist', async () => {
    await expect(writeFileAtomic(path.join(tmp.dir, 'missing', 'x.json'), '{}')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await tmp.list()).toEqual([]);
  });
});
