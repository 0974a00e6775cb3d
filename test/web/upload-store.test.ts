import { Readable } from 'node:stream';
import { readdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { safeFileName, UploadStore, UploadTooLargeError } from '../../src/web/upload/upload-store.js';
import { tempDir } from '../support/pipeline.js';

describe('the upload store', () => {
  it('keeps an upload for its owner only, under a random id that names nothing of the file', async () => {
    const store = new UploadStore(await tempDir('upload-store'));
    const record = await store.receive('tess', 'Smith cohort.csv', Readable.from(['a,b\r\n', '1,2\r\n']), { maxBytes: 1000, truncated: () => false });
    expect(record.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(record).toMatchObject({ owner: 'tess', fileName: 'Smith cohort.csv', bytes: 10, dayFirst: true });
    expect(await store.get(record.id, 'tess')).toEqual(record);
    expect(await store.get(record.id, 'tom')).toBeUndefined();
    expect(await store.get('../../etc/passwd', 'tess')).toBeUndefined();
  });

  it('removes what it wrote when the source stops at the size limit or fails half-way', async () => {
    const store = new UploadStore(await tempDir('upload-store'));
    await expect(store.receive('tess', 'big.csv', Readable.from(['x'.repeat(100)]), { maxBytes: 50, truncated: () => true })).rejects.toBeInstanceOf(UploadTooLargeError);
    const failing = new Readable({ read() {} });
    const receiving = store.receive('tess', 'cut.csv', failing, { maxBytes: 1000, truncated: () => false });
    failing.push('a,b\r\n');
    setTimeout(() => failing.destroy(new Error('client went away')), 20);
    await expect(receiving).rejects.toThrow('client went away');
    expect(await readdir(store.root)).toEqual([]);
  });

  it('sweeps uploads nobody came back to within the age given, and keeps newer ones', async () => {
    const store = new UploadStore(await tempDir('upload-store'));
    const old = await store.receive('tess', 'old.csv', Readable.from(['a\r\n']), { maxBytes: 1000, truncated: () => false });
    const fresh = await store.receive('tess', 'new.csv', Readable.from(['a\r\n']), { maxBytes: 1000, truncated: () => false });
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    await utimes(path.join(store.root, old.id), dayAgo, dayAgo);
    expect(await store.sweep(24 * 3_600_000)).toBe(1);
    expect(await readdir(store.root)).toEqual([fresh.id]);
  });

  it('makes file names safe: no folders, nothing hidden, odd characters replaced', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('C:\\Users\\ann\\cohort (final).csv')).toBe('cohort _final_.csv');
    expect(safeFileName('.hidden.csv')).toBe('hidden.csv');
    expect(safeFileName('')).toBe('upload.csv');
    expect(safeFileName(undefined)).toBe('upload.csv');
  });
});
