import { describe, expect, it } from 'vitest';
import { fieldOfReason } from '../../../src/csv/output/data-quality.js';
import { REASONS } from '../../../src/domain/reasons.js';

describe('fieldOfReason', () => {
  it.each([
    ['nhs_number_check_digit', 'nhsNumber'],
    ['nhs_number_format', 'nhsNumber'],
    ['nhs_number_excel_damaged', 'nhsNumber'],
    ['missing_nhs_number', 'nhsNumber'],
    ['missing_date_of_birth', 'dateOfBirth'],
    ['date_of_birth_ambiguous', 'dateOfBirth'],
    ['missing_family_name', 'familyName'],
    ['missing_sex', 'sex'],
    ['sex_code', 'sex'],
    ['postcode_format', 'postcode'],
    ['duplicate_local_id', 'localId'],
    ['ragged_row', 'row'],
    ['field_too_long', 'row'],
    ['smsp_input_validation', 'row'],
  ])('puts %s against %s', (reason, field) => {
    expect(fieldOfReason(reason)).toBe(field);
  });

  it('does not mistake a field name inside a longer word for the field', () => {
    expect(fieldOfReason('sexy_row')).toBe('row');
    expect(fieldOfReason('postcodes_missing')).toBe('row');
  });

  it('puts every local-check reason in the shared table that names a field against that field', () => {
    // Checks on what the provider returned (multiple_nhs_numbers, invalid_returned_nhs_number...)
    // are errors, never invalid_input, so they are no field's data-quality finding.
    const aboutTheAnswer = (r: string) => /returned|replacement|^multiple_nhs/.test(r);
    const named = Object.keys(REASONS).filter((r) => /nhs_number|date_of_birth|family_name|sex|postcode/.test(r) && !aboutTheAnswer(r));
    for (const reason of named) expect(fieldOfReason(reason)).not.toBe('row');
  });
});
