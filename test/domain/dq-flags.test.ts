import { describe, expect, it } from 'vitest';
import { DQ_FLAG_ORDER, DQ_FLAGS, flagLabel, flagWarning, isDqFlag, orderFlags } from '../../src/domain/dq-flags.js';

describe('data-quality flags', () => {
  it('is the closed set the results, reports and summary use', () => {
    expect(DQ_FLAG_ORDER).toEqual([
      'not_verified_nhs_number',
      'duplicate_nhs_number',
      'superseded_nhs_number',
      'superseded_replacement_in_file',
      'invalidated_record',
      'pds_date_of_death',
      'demographic_discrepancy',
      'duplicate_local_id',
      'date_of_birth_excel_serial',
    ]);
    for (const flag of DQ_FLAG_ORDER) {
      expect(DQ_FLAGS[flag].requirement).toMatch(/^MSCA-DQ-0\d/);
      expect(DQ_FLAGS[flag].label.length).toBeGreaterThan(0);
    }
  });

  it('warns on an invalidated record in the three points FLGINV-9.1 asks for, and of the clinical risk (9.2)', () => {
    const warning = flagWarning('invalidated_record');
    expect(warning).toContain('The NHS number being used is no longer valid');
    expect(warning).toContain('being referred to the back office for processing');
    expect(warning).toContain('All demographic and clinical information for this patient must be regarded with caution until the processing is complete');
    expect(warning).toContain('clinical risk');
    expect(warning).toContain('as much to the clinical as to the demographic record');
  });

  it('advises replacing a superseded number and informing the patient (FLGINV-5.1, 6)', () => {
    expect(flagWarning('superseded_nhs_number')).toMatch(/has been replaced.*Replace the local number.*inform the patient of the replacement number/s);
  });

  it('refers a superseded number whose replacement is in the file to a merge, without replacing it (FLGINV-7)', () => {
    const warning = flagWarning('superseded_replacement_in_file');
    expect(warning).toContain('Do not replace the superseded number automatically');
    expect(warning).toContain('manual merge');
    expect(warning).toContain('regarded with caution until the processing is complete');
  });

  it('says duplicate NHS numbers must not be used until the back office resolves them (MSCA-DQ-01)', () => {
    expect(flagWarning('duplicate_nhs_number')).toMatch(/must not be used.*back office/s);
  });

  it('words a flag outside the table from the reasons table, or by its name', () => {
    expect(isDqFlag('nhs_number_placeholder')).toBe(false);
    expect(flagWarning('nhs_number_placeholder')).toMatch(/placeholder/);
    expect(flagWarning('some_new_flag')).toBe('some_new_flag');
    expect(flagLabel('some_new_flag')).toBe('some_new_flag');
    expect(isDqFlag('toString')).toBe(false);
  });

  it('orders flags as the table does, unknown ones last, each once', () => {
    expect(orderFlags(['duplicate_local_id', 'x_unknown', 'invalidated_record', 'duplicate_nhs_number', 'duplicate_local_id'])).toEqual([
      'duplicate_nhs_number',
      'invalidated_record',
      'duplicate_local_id',
      'x_unknown',
    ]);
  });
});
