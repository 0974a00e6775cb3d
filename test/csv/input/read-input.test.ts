import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputFileError, openInput, type InputRow } from '../../../src/csv/read-input.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pds-trace-read-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(content: string): Promise<string> {
  const file = path.join(dir, `in${n++}.csv`);
  await writeFile(file, content);
  return file;
}

async function all(rows: AsyncIterable<InputRow>): Promise<InputRow[]> {
  const out: InputRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe('openInput', () => {
  it('can iterate the rows again, from the start, with duplicate detection starting afresh', async () => {
    const input = await openInput(await fileWith('NHS Number,DOB,Local ID\n9990000018,2001-01-01,A\n9990000026,2001-01-02,A\n'));
    const first = await all(input.rows);
    const second = await all(input.rows);
    expect(second).toEqual(first);
    expect(first.map((r) => r.flags)).toEqual([[], ['duplicate_local_id']]);
  });

  it('leaves repeated local ids unflagged, and the rows otherwise alike, when told not to flag them', async () => {
    const file = await fileWith('NHS Number,DOB,Local ID\n9990000018,2001-01-01,A\n9990000026,2001-01-02,A\n');
    const today = new Date('2026-01-01');
    const flagged = await all((await openInput(file, { today })).rows);
    const unflagged = await all((await openInput(file, { today, flagDuplicateLocalIds: false })).rows);
    expect(unflagged.map((r) => r.flags)).toEqual([[], []]);
    expect(unflagged).toEqual(flagged.map((r) => ({ ...r, flags: [] })));
  });

  it('adds the MESH record-count warning once, however many times the rows are read', async () => {
    const row = (ref: string) => `${ref},9990000018,X,Y,,1,20010101,LS1 1AA` + ','.repeat(15);
    const input = await openInput(await fileWith(`MPTREQ_20250630120000,SPINE_PDS_MESH_V1,20250630120000,5\n${row('A')}\n${row('B')}\n`));
    await all(input.rows);
    await all(input.rows);
    expect(input.layout.warnings).toEqual(['the MESH control line announces 5 data records but the file has 2']);
  });

  it('rejects unmappable columns with a message listing what was found and what is missing', async () => {
    const error = await openInput(await fileWith('Name,Town\nSomebody,Leeds\n')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputFileError);
    expect((error as InputFileError).message).toContain('missing date of birth, NHS number, family name, sex');
    expect((error as InputFileError).message).toContain('Columns found: "Name", "Town"');
  });

  it('rejects an unreadable --mapping file as mapping_file_invalid', async () => {
    const error = await openInput(await fileWith('A,B\n1,2\n'), { mappingFile: path.join(dir, 'no-such-mapping.txt') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'mapping_file_invalid' });
  });

  it('lets a file it cannot open fail as the file-system error it is', async () => {
    await expect(openInput(path.join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('uses the clock at opening for the future-date check when no today is given', async () => {
    const nextYear = new Date().getFullYear() + 1;
    const rows = await all((await openInput(await fileWith(`NHS Number,DOB\n9990000018,${nextYear}\n`))).rows);
    expect(rows[0]!.problem?.reason).toBe('date_of_birth_in_future');
  });

  it('reads a header-less file through a mapping, every record a row', async () => {
    const mapping = path.join(dir, 'positions.json');
    await writeFile(mapping, JSON.stringify({ header: false, nhsNumber: 2, dateOfBirth: 1 }));
    const input = await openInput(await fileWith('2001-01-01,9990000018\n2001-01-02,9990000026\n'), { mappingFile: mapping });
    expect(input.layout).toMatchObject({ kind: 'mapping', headers: ['column 1', 'column 2'], fields: { nhsNumber: 1, dateOfBirth: 0 } });
    expect((await all(input.rows)).map((r) => [r.line, r.query?.nhsNumber])).toEqual([[1, '9990000018'], [2, '9990000026']]);
  });
});
