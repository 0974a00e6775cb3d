import { FALLBACKS } from '../../pipeline/strategy.js';

/**
 * The Folders page's form for one folder's `pds-trace.json`, field by field, to and from the file's
 * JSON: the check itself stays the watcher's (folder-settings.ts), so the form only turns text
 * boxes and ticks into the file's keys, leaving out what is empty or unticked (the defaults).
 */

export interface FolderForm {
  folder?: string;
  for?: string;
  output?: string;
  mapping?: string;
  format?: string;
  fallbacks?: string | string[];
  minimal?: string;
  bom?: string;
  monthFirst?: string;
  chunkSize?: string;
}

const TICKS = ['minimal', 'bom', 'monthFirst'] as const;
const TEXTS = ['for', 'output', 'mapping'] as const;

export const FALLBACK_CHOICES = Object.entries(FALLBACKS).map(([value, text]) => ({ value, text }));

export function settingsFromForm(form: FolderForm): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const key of TEXTS) {
    const value = form[key]?.trim();
    if (value) settings[key] = value;
  }
  settings.format = form.format || 'native';
  const fallbacks = [form.fallbacks ?? []].flat().filter((f) => f !== '');
  if (fallbacks.length > 0) settings.fallbacks = fallbacks;
  for (const key of TICKS) if (form[key] === 'true') settings[key] = true;
  const chunkSize = form.chunkSize?.trim();
  // Left as text when it is not a whole number, so the check says what is wrong with it.
  if (chunkSize) settings.chunkSize = /^\d+$/.test(chunkSize) ? Number(chunkSize) : chunkSize;
  return settings;
}

/** A file's JSON as the form shows it (anything unexpected simply not shown: the check names it). */
export function formFromSettings(raw: unknown): FolderForm {
  const s = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  return {
    for: text(s.for),
    output: text(s.output),
    mapping: text(s.mapping),
    format: text(s.format) ?? 'native',
    fallbacks: Array.isArray(s.fallbacks) ? s.fallbacks.map(String) : [],
    minimal: s.minimal === true ? 'true' : undefined,
    bom: s.bom === true ? 'true' : undefined,
    monthFirst: s.monthFirst === true ? 'true' : undefined,
    chunkSize: text(s.chunkSize),
  };
}

/** The form's label of each key, so a problem names the field a person sees (and the key, as in the file). */
const FIELD_LABELS: Record<string, string> = {
  for: 'Traced for',
  output: 'Output folder',
  mapping: 'Mapping file',
  format: 'Results layout',
  fallbacks: 'Fallbacks',
  minimal: 'Numbers only',
  bom: 'Byte order mark',
  monthFirst: 'Dates month first',
  chunkSize: 'Rows per chunk',
};

/** `key: problem` lines as error-summary entries linked to the field they are about. */
export function fieldErrors(prefix: string, problems: readonly string[]): { list: Array<{ text: string; href: string }>; byField: Record<string, string> } {
  const byField: Record<string, string> = {};
  const list = problems.map((line) => {
    const key = /^([A-Za-z]+)/.exec(line)?.[1] ?? '';
    const field = Object.hasOwn(FIELD_LABELS, key) ? key : 'for';
    // `chunkSize: …` → `Rows per chunk (chunkSize): …`
    const text = Object.hasOwn(FIELD_LABELS, key) ? line.replace(/^([^:]+):/, `${FIELD_LABELS[key]} ($1):`) : line;
    byField[field] = byField[field] ? `${byField[field]}; ${text}` : text;
    return { text, href: `#${prefix}-${field}` };
  });
  return { list, byField };
}
