import { TRACE_STATUSES, TRACE_STATUS_MEANING, type TraceStatus } from '../../domain/outcome.js';
import { reasonMessage } from '../../domain/reasons.js';
import { DISCREPANCY_FIELDS, DISCREPANCY_FIELD_LABELS } from '../../domain/findings.js';
import { flagLabel, isDqFlag, DQ_FLAGS } from '../../domain/dq-flags.js';
import { DATA_QUALITY_FIELDS, DATA_QUALITY_FIELD_LABELS } from './data-quality.js';
import { SIMULATED_LABEL } from './confidential-label.js';
import type { BatchSummary, LabelledRate } from './summary.js';

/**
 * The summary page analysts open first. One self-contained file: inline CSS and an inline SVG
 * chart, no scripts, fonts, images or links to fetch (it is opened from shared drives and mail,
 * often offline), and a Content-Security-Policy that forbids loading anything. Every value is
 * escaped: file names, user names and reason details come from outside.
 *
 * Labelled for people (MSCA-IG-04): the protective marking heads and ends the page, and printed
 * pages carry it in their margins with "Page X of Y" through CSS `@page` margin boxes and the
 * `page` / `pages` counters (CSS Paged Media; printed from Chromium 131+, and by PDF renderers
 * such as WeasyPrint and Prince). The page lists no NHS number; were one added, it must go
 * through formatNhsNumberForDisplay (3-3-4, MSCA-PDS-06).
 */

export const STATUS_LABELS: Readonly<Record<TraceStatus, string>> = {
  verified: 'Verified',
  matched: 'Matched',
  no_match: 'No match',
  multiple_matches: 'Multiple matches',
  not_verified: 'Not verified',
  superseded: 'Superseded (new NHS number)',
  invalidated: 'Invalidated NHS number',
  invalid_input: 'Invalid input',
  error: 'Error (not traced)',
};

/** Green for found, amber for PDS's "no", grey for rejected, red for failures. */
const STATUS_COLOURS: Readonly<Record<TraceStatus, string>> = {
  verified: '#007f3b',
  matched: '#00a499',
  no_match: '#ffb81c',
  multiple_matches: '#ed8b00',
  not_verified: '#8a1538',
  superseded: '#41b6e6',
  invalidated: '#7c2855',
  invalid_input: '#768692',
  error: '#d5281b',
};

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const count = (n: number) => n.toLocaleString('en-GB');
const percent = (part: number, whole: number) => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`);
const percentOf = (rate: LabelledRate) => (rate.rate === null ? '–' : `${(rate.rate * 100).toFixed(1)}%`);
const ms = (value: number | null) => (value === null ? '–' : `${count(Math.round(value))} ms`);

function table(caption: string, headings: string[], rows: string[][], numericFrom: number): string {
  const head = headings.map((h, i) => `<th scope="col"${i >= numericFrom ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((cells) => `<tr>${cells.map((c, i) => `<td${i >= numericFrom ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Horizontal bars, one per status, zeros included so charts of different batches line up. */
export function outcomeChartSvg(byStatus: Record<TraceStatus, number>, rows: number): string {
  const barHeight = 24;
  const gap = 8;
  const labelWidth = 230;
  const barSpace = 330;
  const width = labelWidth + barSpace + 120;
  const height = TRACE_STATUSES.length * (barHeight + gap) + gap;
  const largest = Math.max(1, ...TRACE_STATUSES.map((s) => byStatus[s]));
  const bars = TRACE_STATUSES.map((status, i) => {
    const y = gap + i * (barHeight + gap);
    const n = byStatus[status];
    const barWidth = n === 0 ? 0 : Math.max(2, Math.round((barSpace * n) / largest));
    const text = y + barHeight / 2 + 5;
    return [
      `<text x="${labelWidth - 8}" y="${text}" text-anchor="end">${escapeHtml(STATUS_LABELS[status])}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${barWidth}" height="${barHeight}" fill="${STATUS_COLOURS[status]}"><title>${escapeHtml(`${STATUS_LABELS[status]}: ${count(n)}`)}</title></rect>`,
      `<text x="${labelWidth + barWidth + 6}" y="${text}">${escapeHtml(`${count(n)} (${percent(n, rows)})`)}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><title id="chart-title">Rows by outcome</title>${bars.join('\n')}</svg>`;
}

function detailRows(summary: BatchSummary): string[][] {
  const known = new Set([
    'label', 'simulated', 'simulatedWarning', 'provider', 'batchId', 'inputFile', 'user', 'startedAt', 'startedAtLocal', 'finishedAt', 'finishedAtLocal',
    'durationSeconds', 'provenance', 'rows', 'tracedRows', 'byStatus', 'byReason', 'rates', 'fallbacksUsed', 'dataQuality', 'flaggedRows', 'discrepancies', 'timings',
  ]);
  return Object.entries(summary)
    .filter(([key, value]) => !known.has(key) && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key, value]) => [key, String(value)]);
}

const STYLE = `
body{font-family:Arial,Helvetica,sans-serif;color:#212b32;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;line-height:1.4}
.label{background:#003087;color:#fff;font-weight:bold;padding:.5rem .75rem;margin:0 0 1rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid #005eb8}
table{border-collapse:collapse;margin:.5rem 0 1rem;min-width:24rem}caption{text-align:left;font-weight:bold;padding:.25rem 0}
th,td{border-bottom:1px solid #d8dde0;padding:.3rem .6rem;text-align:left;vertical-align:top}.num{text-align:right;white-space:nowrap}
.figures{display:flex;flex-wrap:wrap;gap:1rem;padding:0;list-style:none}.figures li{background:#f0f4f5;padding:.6rem 1rem;min-width:9rem}
.figures strong{display:block;font-size:1.5rem}svg text{font-family:Arial,Helvetica,sans-serif;font-size:14px;fill:#212b32}
.meta{color:#4c6272}footer{margin-top:2rem}`;

/** Only in a simulated batch's page, which is the only one with the banner. */
const SIMULATED_STYLE = `
.simulated-mark{color:#d5281b;font-size:4rem;font-weight:bold;letter-spacing:.2em;margin:0;line-height:1.1}
.simulated{background:#d5281b;color:#fff;font-weight:bold;font-size:1.25rem;padding:.75rem;margin:0 0 1rem;border:4px solid #212b32}
@media print{.simulated{background:none;color:#d5281b;border:4px solid #d5281b}}`;

/**
 * A CSS string literal: backslashes, quotes and line breaks escaped as hex (CSS Syntax §4.3.7), and
 * `<` too, so the text cannot close the <style> element it sits in.
 */
function cssString(value: string): string {
  return `"${value.replace(/[\\"\n\r<]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}"`;
}

/** Print margins: the marking at the top and, at the foot, the marking and "Page X of Y" (MSCA-IG-04). */
function printStyle(label: string): string {
  const marking = cssString(label);
  return `
@page{size:A4;margin:18mm 15mm 20mm;
@top-center{content:${marking};font:bold 9pt Arial,Helvetica,sans-serif;color:#003087}
@bottom-left{content:${marking};font:9pt Arial,Helvetica,sans-serif}
@bottom-right{content:"Page " counter(page) " of " counter(pages);font:9pt Arial,Helvetica,sans-serif}}
@media print{body{max-width:none;padding:0}.label{background:none;color:#003087;border:1px solid #003087}table,svg{break-inside:avoid}h2{break-after:avoid}}`;
}

/** "Matched or verified: 182 of 200 rows (91.0%)", the rate saying what it counts. */
function rateText(rate: LabelledRate, rowsWord: string): string {
  return `${count(rate.count)} of ${count(rate.outOf)} ${rowsWord}${rate.rate === null ? '' : ` (${(rate.rate * 100).toFixed(1)}%)`}`;
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

/** Where the answers came from and how the batch was asked (provenance.ts). */
function provenanceRows(summary: BatchSummary): string[][] {
  const p = summary.provenance;
  if (!p) return [['Provider', summary.provider ?? 'not recorded']];
  return [
    ['Answers from', p.simulated ? `SIMULATED: ${p.provider} (synthetic population, not PDS)` : `${p.provider} (PDS through SMSP)`],
    ['pds-trace version', p.pdsTraceVersion],
    ['Output format', p.options.format],
    ['Minimal (NHS number only, no details)', yesNo(p.options.minimal)],
    ['Fallbacks asked for', p.options.fallbacks.length === 0 ? 'none' : p.options.fallbacks.join(', ')],
    ['Column mapping', p.options.mappingFile ?? 'none: columns recognised by their headers'],
    ['Dates read day first (03/04 is 3 April)', yesNo(p.options.dayFirst)],
    ['CSV files start with a byte order mark', yesNo(p.options.bom)],
  ];
}

function fallbackRows(summary: BatchSummary): string[][] {
  return Object.entries(summary.fallbacksUsed).map(([code, use]) => [
    use.description,
    code,
    count(use.rows),
    Object.entries(use.byFinalStatus).map(([status, n]) => `${STATUS_LABELS[status as TraceStatus] ?? status}: ${count(n)}`).join('; ') || '–',
  ]);
}

export function renderSummaryHtml(summary: BatchSummary): string {
  const t = summary.timings;
  const reasons = Object.entries(summary.byReason).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const quality = DATA_QUALITY_FIELDS.flatMap((field) => {
    const finding = summary.dataQuality[field];
    if (!finding) return [];
    return Object.entries(finding.byReason)
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .map(([reason, n]) => [DATA_QUALITY_FIELD_LABELS[field], reasonMessage(reason), count(n)]);
  });
  const invalid = summary.byStatus.invalid_input;
  const flagged = Object.entries(summary.flaggedRows)
    .filter(([, n]) => n > 0)
    .map(([flag, n]) => [flagLabel(flag), flag, isDqFlag(flag) ? DQ_FLAGS[flag].requirement : '', count(n)]);
  const differences = DISCREPANCY_FIELDS.filter((field) => summary.discrepancies.byField[field] > 0).map((field) => [
    DISCREPANCY_FIELD_LABELS[field],
    field,
    count(summary.discrepancies.byField[field]),
  ]);
  const details = detailRows(summary);
  const simulated = summary.simulated === true;
  const title = `${simulated ? 'SIMULATED trace summary' : 'Trace summary'}: ${summary.inputFile}`;
  // Beside the marking at the head and foot of the page, and in the print margins with it.
  const banner = simulated ? `\n<p class="simulated-mark">SIMULATED</p>\n<p class="simulated" role="alert">${escapeHtml(SIMULATED_LABEL)}</p>` : '';
  const fallbacks = fallbackRows(summary);
  const { foundOfAnswered, foundOfAllRows } = summary.rates;
  const marking = simulated ? `${summary.label} | SIMULATED` : summary.label;

  return `<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}${printStyle(marking)}${simulated ? SIMULATED_STYLE : ''}</style>
</head>
<body>
<p class="label" role="note">${escapeHtml(summary.label)}</p>${banner}
<h1>${escapeHtml(title)}</h1>
<p class="meta">Batch ${escapeHtml(summary.batchId)}, run by ${escapeHtml(summary.user)} from ${escapeHtml(summary.startedAtLocal)} to ${escapeHtml(summary.finishedAtLocal)} (${escapeHtml(summary.durationSeconds)} seconds).</p>

<h2>At a glance</h2>
<ul class="figures">
<li><strong>${escapeHtml(count(summary.rows))}</strong>rows in the file</li>
<li><strong>${escapeHtml(percentOf(foundOfAllRows))}</strong>Matched or verified: ${escapeHtml(rateText(foundOfAllRows, 'rows'))}, invalid and error rows included</li>
<li><strong>${escapeHtml(percentOf(foundOfAnswered))}</strong>Matched or verified: ${escapeHtml(rateText(foundOfAnswered, 'rows PDS answered about'))}, invalid and error rows left out</li>
<li><strong>${escapeHtml(count(invalid))}</strong>rows not traced: invalid input</li>
<li><strong>${escapeHtml(count(summary.byStatus.error))}</strong>rows not traced: errors (can be retried)</li>
</ul>
<p>Matched or verified counts the rows PDS gave an NHS number for: verified, matched and superseded.</p>

<h2>Where the answers came from</h2>
${table('Provider, version and options', ['Detail', 'Value'], provenanceRows(summary), 2)}

<h2>Fallbacks</h2>
${fallbacks.length === 0 ? '<p>No fallback was asked for: every row was traced by its first interaction alone.</p>' : table('Rows each fallback ran on, and what they became', ['Fallback', 'Code', 'Rows it ran on', 'What they became'], fallbacks, 2)}

<h2>Outcomes</h2>
${outcomeChartSvg(summary.byStatus, summary.rows)}
${table('Rows by outcome', ['Outcome', 'Status code', 'What it means', 'Rows', 'Share of all rows'], TRACE_STATUSES.map((s) => [STATUS_LABELS[s], s, TRACE_STATUS_MEANING[s], count(summary.byStatus[s]), percent(summary.byStatus[s], summary.rows)]), 3)}

<h2>Reasons</h2>
${reasons.length === 0 ? '<p>No rows.</p>' : table('Rows by reason', ['Reason', 'Reason code', 'Rows'], reasons.map(([reason, n]) => [reasonMessage(reason), reason, count(n)]), 2)}

<h2>Data quality</h2>
${quality.length === 0 ? '<p>No rows were rejected for problems in the file.</p>' : table(`Problems found in ${count(invalid)} rejected rows, by field`, ['Field', 'Problem', 'Rows'], quality, 2)}

<h2>Back-office review</h2>
${flagged.length === 0 ? '<p>No row was flagged for the back office.</p>' : `<p>Every flagged row is listed, with its warning, in the back-office report beside this summary.</p>\n${table('Rows flagged for the back office, by finding', ['Finding', 'Flag', 'Requirement', 'Rows'], flagged, 3)}`}

<h2>Differences from PDS</h2>
${differences.length === 0 ? '<p>No traced row differs from its PDS record.</p>' : `<p>${escapeHtml(count(summary.discrepancies.rows))} traced rows differ from their PDS record; each difference is listed in the discrepancy report beside this summary.</p>\n${table('Differences from PDS, by field', ['Field', 'Field code', 'Rows'], differences, 2)}`}

<h2>Timings</h2>
${table('Run and SMSP exchange timings', ['Measure', 'Value'], [
    ['Rows per second', t.rowsPerSecond === null ? '–' : count(t.rowsPerSecond)],
    ['SMSP requests (all attempts)', count(t.exchanges)],
    ['Retries', count(t.retries)],
    ['Rows that needed a retry', count(t.rowsRetried)],
    ['Mean request time', ms(t.meanExchangeMs)],
    ['95th percentile request time', ms(t.p95ExchangeMs)],
    ['Longest request time', ms(t.maxExchangeMs)],
    ...Object.entries(t.exchangesByInteraction).map(([interaction, n]) => [`Requests: ${interaction}`, count(n)]),
    ...Object.entries(t.exchangesByResponseCode).map(([code, n]) => [`Responses: ${code}`, count(n)]),
  ], 1)}
${details.length === 0 ? '' : `<h2>Run details</h2>\n${table('Run details', ['Detail', 'Value'], details, 2)}`}
<footer>${banner}<p class="label" role="note">${escapeHtml(summary.label)}</p></footer>
</body>
</html>
`;
}
