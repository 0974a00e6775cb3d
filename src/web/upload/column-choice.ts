import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseMapping } from '../../csv/input/mapping-file.js';
import { FIELD_NAMES } from '../../csv/input/types.js';
import type { ColumnChoice, UploadRecord } from './upload-store.js';

/**
 * The columns a person chose on the check page, as the reader takes any explicit choice: a mapping
 * file (src/csv/input/mapping-file.ts), JSON with 1-based column positions. So the check, and the
 * batch's ingest after it, read the file exactly as chosen, through the one mapping rule.
 */

/** Form fields are `column.<field>`: a 0-based column index, or empty for "not used". */
export function columnsFromForm(form: Record<string, unknown>, columnCount: number): ColumnChoice {
  const columns: ColumnChoice = {};
  for (const field of FIELD_NAMES) {
    const value = form[`column.${field}`];
    if (typeof value !== 'string' || value === '') continue;
    const index = Number(value);
    if (Number.isInteger(index) && index >= 0 && index < columnCount) columns[field] = index;
  }
  return columns;
}

/**
 * Writes the mapping the upload is to be read with into `dir` and returns its path: the columns
 * chosen on the page, else a mapping file uploaded with it; undefined when the file's own header
 * row is to be matched.
 */
export async function writeEffectiveMapping(dir: string, record: UploadRecord): Promise<string | undefined> {
  if (record.columns) {
    const hasHeader = record.mappingText ? headerOf(record.mappingText) : true;
    const json: Record<string, number | boolean> = hasHeader ? {} : { header: false };
    for (const [field, index] of Object.entries(record.columns)) json[field] = index + 1;
    const file = path.join(dir, 'column-mapping.json');
    await writeFile(file, `${JSON.stringify(json)}\n`, { mode: 0o600 });
    return file;
  }
  if (record.mappingText !== undefined) {
    const file = path.join(dir, 'column-mapping.txt');
    await writeFile(file, record.mappingText, { mode: 0o600 });
    return file;
  }
  return undefined;
}

function headerOf(text: string): boolean {
  try {
    return parseMapping(text).hasHeader;
  } catch {
    // An unreadable mapping file is reported when the upload is read with it; here, assume a header.
    return true;
  }
}
