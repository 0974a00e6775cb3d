import { describe, expect, it } from 'vitest';
import { InputFileError } from '../../../src/csv/input/input-file-error.js';
import { parseMapping, resolveMapping } from '../../../src/csv/input/mapping-file.js';

describe('parseMapping', () => {
  it('reads JSON with header names and positions', () => {
    expect(parseMapping('{ "nhsNumber": "NHS", "date_of_birth": 3, "FamilyName": "#2" }')).toEqual({
      hasHeader: true,
      columns: { nhsNumber: { header: 'NHS' }, dateOfBirth: { position: 3 }, familyName: { position: 2 } },
    });
  });

  it('reads field = column lines with comments, and header = none makes plain numbers positions', () => {
    expect(parseMapping('# comment\nheader = none\nnhs_number = 1\n\ndateOfBirth = 4\n')).toEqual({
      hasHeader: false,
      columns: { nhsNumber: { position: 1 }, dateOfBirth: { position: 4 } },
    });
  });

  it('keeps a header text that happens to be a number when the file has a header row', () => {
    expect(parseMapping('localId = 2024').columns.localId).toEqual({ header: '2024' });
  });

  it.each([
    ['an unknown field', 'surnameX = A'],
    ['a line without =', 'nhsNumber A'],
    ['invalid JSON', '{ "nhsNumber": '],
    ['a field named twice', 'nhsNumber = A\nnhs_number = B'],
    ['a header name for a header-less file', 'header = none\nnhsNumber = NHS'],
    ['no fields', '# nothing'],
  ])('rejects %s as mapping_file_invalid', (_, text) => {
    expect(() => parseMapping(text)).toThrow(expect.objectContaining({ reason: 'mapping_file_invalid' }));
  });
});

describe('resolveMapping', () => {
  it('finds columns by exact text, then ignoring case and punctuation, or by position', () => {
    const spec = parseMapping('nhsNumber = NHS No\nfamilyName = family-name\ndateOfBirth = #3');
    expect(resolveMapping(spec, ['NHS No', 'Family Name', 'Born'])).toEqual({ nhsNumber: 0, familyName: 1, dateOfBirth: 2 });
  });

  it('rejects names and positions the file does not have, listing the columns found', () => {
    const spec = parseMapping('nhsNumber = Missing\ndateOfBirth = #9');
    let error: unknown;
    try {
      resolveMapping(spec, ['A', 'B']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputFileError);
    expect(error).toMatchObject({ reason: 'columns_not_mapped', found: ['A', 'B'], missing: ['nhsNumber → "Missing"', 'dateOfBirth → column 9'] });
  });
});
