/**
 * Sex as the NHS Data Dictionary "Sex" codes that SMSP and PDS MESH use: 0 not known, 1 male,
 * 2 female, 9 not specified (batch-formats.md §6.2). Inputs also arrive as M/F/U (DBS-style
 * exports) or words. GENDER IDENTITY CODE values (3, 4, X, Z) are a different vocabulary and are
 * not translated.
 */
import type { SexCode } from '../../../domain/demographics.js';
import { EMPTY, isBlankCode, problem, type FieldResult } from './field-result.js';

const SEX_WORDS: Readonly<Record<string, SexCode>> = {
  '0': '0',
  u: '0',
  unknown: '0',
  'not known': '0',
  nk: '0',
  '1': '1',
  m: '1',
  male: '1',
  '2': '2',
  f: '2',
  female: '2',
  '9': '9',
  'not specified': '9',
  unspecified: '9',
  ns: '9',
  indeterminate: '9',
};

export function normaliseSex(raw: string): FieldResult<SexCode> {
  if (isBlankCode(raw)) return EMPTY;
  const code = SEX_WORDS[raw.trim().toLowerCase().replace(/[\s_-]+/g, ' ')];
  return code === undefined ? problem('sex_unrecognised') : { kind: 'value', value: code };
}
