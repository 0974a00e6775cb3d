import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import { openFileAuditStore } from '../../src/audit/file-store.js';
import { openPgAuditStore } from '../../src/audit/pg-store.js';
import type { AuditStore } from '../../src/audit/store.js';
import { describeRelatedNumber, patientNumbers, supersededDetail, supersessionOf } from '../../src/audit/superseded-numbers.js';
import { SUPERSEDED_NUMBERS, SUPERSEDED_TRAIL, tempFolder } from './fixtures.js';
import { createAppRole, createTestSchema } from './pg-fixtures.js';

/**
 * A person's accesses under a superseded NHS number and its replacement, found by a search for
 * either: the same links, the same events, whichever store holds the trail.
 */

const { X, Y, W, Z } = SUPERSEDED_NUMBERS;

let role: Awaited<ReturnType<typeof createAppRole>>;
beforeAll(async () => {
  role = await createAppRole();
});
afterAll(async () => {
  await role.dropRole();
});

const STORES: [string, () => Promise<{ store: AuditStore; close: () => Promise<void> }>][] = [
  [
    'file',
    async () => {
      const folder = await tempFolder('pds-trace-superseded-');
      const store = await openFileAuditStore(folder.dir);
      return { store, close: folder.remove };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const db = await createTestSchema(role.appRole);
      const store = await openPgAuditStore({ connectionString: db.appUrl, schema: db.schema });
      return {
        store,
        close: async () => {
          await store.close();
          await db.drop();
        },
      };
    },
  ],
];

describe('supersessionOf', () => {
  it('reads a link only from a superseded SMSP exchange naming another number', () => {
    const stored = SUPERSEDED_TRAIL.map((e, i) => ({ ...e, seq: i + 1 }));
    expect(stored.map(supersessionOf)).toEqual([
      undefined,
      { superseded: X, replacement: Y, seq: 2 },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      { superseded: Y, replacement: W, seq: 8 },
    ]);
    // Only a whole ten-digit value of the key counts.
    expect(supersessionOf({ ...stored[1]!, detail: `x${supersededDetail(X)}` })).toBeUndefined();
    expect(supersessionOf({ ...stored[1]!, detail: `${supersededDetail(X)}1` })).toBeUndefined();
  });
});

describe.each(STORES)('%s audit store: a person under superseded numbers', (_name, open) => {
  let opened: Awaited<ReturnType<typeof open>>;
  const seqs = (events: AuditEvent[]) => events.map((e) => e.seq);

  beforeEach(async () => {
    opened = await open();
    await opened.store.append(SUPERSEDED_TRAIL);
  });

  afterEach(async () => {
    await opened.close();
  });

  it('finds the links that involve a number, at either end, and nothing else', async () => {
    expect(seqs(await opened.store.search({ supersessionOf: X }))).toEqual([2]);
    expect(seqs(await opened.store.search({ supersessionOf: Y }))).toEqual([2, 8]);
    expect(seqs(await opened.store.search({ supersessionOf: W }))).toEqual([8]);
    expect(seqs(await opened.store.search({ supersessionOf: Z }))).toEqual([]);
  });

  it('follows the links both ways and through a chain, saying how each number relates', async () => {
    const fromOld = await patientNumbers(opened.store, X);
    expect(fromOld.numbers.map(describeRelatedNumber)).toEqual([X, `${Y} (replacement of ${X})`, `${W} (replacement of ${Y})`]);
    expect(fromOld.links).toEqual([
      { superseded: X, replacement: Y, seq: 2 },
      { superseded: Y, replacement: W, seq: 8 },
    ]);
    const fromNew = await patientNumbers(opened.store, W);
    expect(fromNew.numbers.map(describeRelatedNumber)).toEqual([W, `${Y} (superseded by ${W})`, `${X} (superseded by ${Y})`]);
    expect(await patientNumbers(opened.store, Z)).toEqual({ numbers: [{ nhsNumber: Z }], links: [] });
  });

  it('searches several numbers at once, alone or with other filters', async () => {
    expect(seqs(await opened.store.search({ nhsNumber: [X, Y, W] }))).toEqual([1, 2, 3, 8]);
    expect(seqs(await opened.store.search({ nhsNumber: [X, Y], user: 'bob' }))).toEqual([1, 3]);
    expect(seqs(await opened.store.search({ nhsNumber: X }))).toEqual([1]);
    expect(seqs(await opened.store.search({ nhsNumber: [] }))).toEqual([]);
  });
});
