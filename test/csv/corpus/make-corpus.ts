/**
 * Writes the awkward-input corpus and its expected outcomes (expected.json). Run once with
 * `npx tsx test/csv/corpus/make-corpus.ts` after changing a case; the files are committed so the
 * bytes under test never depend on this script's environment. Every expectation here is written
 * by hand from the rules (batch-formats.md §3, §6), not captured from the reader's output.
 *
 * Data is synthetic: NHS numbers from the never-issued 999 range; 990000028 (for a lost leading
 * zero) completes to 0990000028, which no NHS or CHI number can be (CHI's digits 3–4 are a month).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';

const here = path.dirname(fileURLToPath(import.meta.url));

type Query = Record<string, string>;
export interface RowExpectation {
  line: number;
  query?: Query;
  reason?: string;
  field?: string;
  flags?: string[];
  cells?: string[];
}
export interface CorpusCase {
  file: string;
  /** What the case is about. */
  about: string;
  options?: { dayFirst?: boolean; maxRecordBytes?: number; mappingFile?: string };
  layout?: {
    kind?: string;
    encoding?: string;
    bom?: boolean;
    delimiter?: string;
    headers?: string[];
    fields?: Record<string, number>;
    /** Substrings each expected among the warnings (after reading every row). */
    warnings?: string[];
  };
  /** Every row, in order. */
  rows?: RowExpectation[];
  /** Or: how many rows, and some of them by 1-based row number. */
  rowCount?: number;
  someRows?: Record<string, RowExpectation>;
  error?: { reason: string; found?: string[]; missing?: string[] };
}

const N = ['9990000018', '9990000026', '9990000034', '9990000042', '9990000050', '9990000069', '9990000077', '9990000085', '9990000093', '9990000107'] as const;
const BOM = '\uFEFF';
const lines = (rows: string[], eol = '\n') => rows.join(eol) + eol;
const q = (nhs: string | undefined, dob: string, extra: Query = {}): Query => ({ ...(nhs ? { nhsNumber: nhs } : {}), dateOfBirth: dob, ...extra });

const files = new Map<string, Buffer>();
const cases: CorpusCase[] = [];
function add(c: CorpusCase, content: string | Buffer) {
  files.set(c.file, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
  cases.push(c);
}

const STD_HEADER = 'NHS Number,Family Name,Given Name,Date of Birth,Sex,Postcode,Local ID';
const STD_FIELDS = { nhsNumber: 0, familyName: 1, givenName: 2, dateOfBirth: 3, sex: 4, postcode: 5, localId: 6 };

// ── Encodings and BOMs ────────────────────────────────────────────────────────────────────────
add(
  {
    file: 'utf8-lf-comma.csv',
    about: 'plain UTF-8, LF, comma, common header names',
    layout: { kind: 'header', encoding: 'utf-8', bom: false, delimiter: ',', fields: STD_FIELDS, headers: STD_HEADER.split(',') },
    rows: [
      { line: 2, query: q(N[0], '20010403', { familyName: 'SMITH', givenName: 'JOHN', sex: '1', postcode: 'LS1 1AA', localId: 'L001' }) },
      { line: 3, query: q(N[1], '19851231', { familyName: 'JONES', givenName: 'MARY', sex: '2', postcode: 'M1 1AE', localId: 'L002' }) },
    ],
  },
  lines([STD_HEADER, `${N[0]},SMITH,JOHN,2001-04-03,M,LS1 1AA,L001`, `${N[1]},JONES,MARY,1985-12-31,F,M1 1AE,L002`]),
);
add(
  {
    file: 'utf8-bom-crlf.csv',
    about: 'UTF-8 with BOM (Excel for Mac) and CRLF: the BOM does not stick to the first header',
    layout: { kind: 'header', encoding: 'utf-8', bom: true, delimiter: ',', headers: ['NHS_NO', 'SURNAME', 'FORENAME', 'DOB', 'GENDER', 'POSTCODE'], fields: { nhsNumber: 0, familyName: 1, givenName: 2, dateOfBirth: 3, sex: 4, postcode: 5 } },
    rows: [
      { line: 2, query: q(N[2], '19700101', { familyName: 'BROWN', givenName: 'AMY', sex: '2', postcode: 'B1 1AA' }) },
      { line: 3, query: q(N[3], '19991231', { familyName: 'GREEN', givenName: 'TOM', sex: '1', postcode: 'CF10 1AA' }) },
    ],
  },
  BOM + lines(['NHS_NO,SURNAME,FORENAME,DOB,GENDER,POSTCODE', `${N[2]},BROWN,AMY,01/01/1970,F,B1 1AA`, `${N[3]},GREEN,TOM,31/12/1999,M,CF10 1AA`], '\r\n'),
);
add(
  {
    file: 'utf16le-bom-tab.txt',
    about: 'Excel "Unicode Text": UTF-16LE with BOM, tab-delimited, non-ASCII names',
    layout: { kind: 'header', encoding: 'utf-16le', bom: true, delimiter: '\t', headers: ['Surname', 'Forename', 'DOB', 'Sex'] },
    rows: [
      { line: 2, query: q(undefined, '19800229', { familyName: 'Kociński', givenName: 'Zoë', sex: '2' }), cells: ['Kociński', 'Zoë', '29/02/1980', 'F'] },
      { line: 3, query: q(undefined, '19450508', { familyName: 'Ødegård', givenName: 'Åse', sex: '2' }) },
    ],
  },
  iconv.encode(lines(['Surname\tForename\tDOB\tSex', 'Kociński\tZoë\t29/02/1980\tF', 'Ødegård\tÅse\t08/05/1945\tF'], '\r\n'), 'utf16le', { addBOM: true }),
);
add(
  {
    file: 'utf16be-bom.csv',
    about: 'UTF-16BE with BOM',
    layout: { kind: 'header', encoding: 'utf-16be', bom: true, delimiter: ',' },
    rows: [{ line: 2, query: q(N[4], '20000101', { familyName: 'Nuñez' }), cells: [N[4], 'Nuñez', '20000101'] }],
  },
  iconv.encode(lines(['NHS Number,Surname,DOB', `${N[4]},Nuñez,20000101`]), 'utf16be', { addBOM: true }),
);
add(
  {
    file: 'utf16le-no-bom.csv',
    about: 'UTF-16LE without a BOM, recognised by its NUL bytes',
    layout: { kind: 'header', encoding: 'utf-16le', bom: false, delimiter: ',' },
    rows: [{ line: 2, query: q(N[5], '19600606', { familyName: 'Łukasz' }) }],
  },
  iconv.encode(lines(['NHS Number,Surname,DOB', `${N[5]},Łukasz,1960-06-06`]), 'utf16le'),
);
add(
  {
    file: 'windows-1252.csv',
    about: 'Windows-1252 (Excel on Windows "CSV"), including 0x80–0x9F: ’ “ ” – Ž € Œ',
    layout: { kind: 'header', encoding: 'windows-1252', bom: false, delimiter: ',' },
    rows: [
      { line: 2, query: q(N[6], '19720304', { familyName: 'O’Brien', givenName: 'Žofia', sex: '2' }), cells: [N[6], 'O’Brien', 'Žofia', '04/03/1972', 'F', '“Rose Cottage” – €5 Lane'] },
      { line: 3, query: q(N[7], '19881111', { familyName: 'Müller', givenName: 'Œdipe', sex: '1' }) },
    ],
  },
  iconv.encode(lines(['NHS Number,Surname,Forename,DOB,Sex,Address 1', `${N[6]},O’Brien,Žofia,04/03/1972,F,“Rose Cottage” – €5 Lane`, `${N[7]},Müller,Œdipe,11/11/1988,M,`], '\r\n'), 'win1252'),
);
{
  const filler = Array.from({ length: 1200 }, (_, i) => `${N[i % N.length]},ASCII,ROW${i},2001-01-01`);
  add(
    {
      file: 'windows-1252-after-64k.csv',
      about: 'ASCII for the first 64 KiB, then one Windows-1252 byte: the whole file is checked, not a sample',
      layout: { kind: 'header', encoding: 'windows-1252', bom: false },
      rowCount: 1201,
      someRows: { '1': { line: 2, query: q(N[0], '20010101', { familyName: 'ASCII', givenName: 'ROW0' }) }, '1201': { line: 1202, query: q(N[8], '20010101', { familyName: 'LATE', givenName: 'Zoë' }) } },
    },
    iconv.encode(lines(['NHS Number,Surname,Forename,DOB', ...filler, `${N[8]},LATE,Zoë,2001-01-01`]), 'win1252'),
  );
}
add(
  {
    file: 'utf8-multibyte-names.csv',
    about: 'UTF-8 multi-byte names are read as UTF-8, not mistaken for Windows-1252',
    layout: { encoding: 'utf-8', bom: false },
    rows: [
      { line: 2, query: q(N[9], '19900101', { familyName: 'Đorđević', givenName: 'Siân' }) },
      { line: 3, query: q(N[0], '19900102', { familyName: 'Nguyễn', givenName: 'Ngọc' }) },
    ],
  },
  lines(['NHS Number,Surname,Forename,DOB', `${N[9]},Đorđević,Siân,19900101`, `${N[0]},Nguyễn,Ngọc,19900102`]),
);
{
  // A UTF-8 export with two stray Windows-1252 bytes (é pasted from another file, a ’): the file
  // stays UTF-8, so every other é and ł reads right; only the two rows with the bad bytes are lost.
  const utf8 = (text: string) => Buffer.from(text, 'utf8');
  const win = (text: string) => iconv.encode(text, 'win1252');
  add(
    {
      file: 'utf8-two-bad-bytes.csv',
      about: 'UTF-8 but for two Windows-1252 bytes: read as UTF-8, the two rows invalid_encoding, the other names intact',
      layout: { encoding: 'utf-8', bom: false, warnings: ['2 rows had bytes that are not UTF-8'] },
      rows: [
        { line: 2, query: q(N[1], '19900103', { familyName: 'Kociński', givenName: 'Łukasz' }) },
        { line: 3, reason: 'invalid_encoding', cells: [N[2], 'Ren\uFFFDe', 'Anne', '19900104'] },
        { line: 4, query: q(N[3], '19900105', { familyName: 'Renée', givenName: 'Zoë' }) },
        { line: 5, reason: 'invalid_encoding', cells: [N[4], 'O\uFFFDBrien', 'Seán', '19900106'] },
        { line: 6, query: q(N[5], '19900107', { familyName: 'Wałęsa', givenName: 'Ólöf' }) },
      ],
    },
    Buffer.concat([
      utf8(`NHS Number,Surname,Forename,DOB\n${N[1]},Kociński,Łukasz,19900103\n${N[2]},Ren`),
      win('é'),
      utf8(`e,Anne,19900104\n${N[3]},Renée,Zoë,19900105\n${N[4]},O`),
      win('’'),
      utf8(`Brien,Seán,19900106\n${N[5]},Wałęsa,Ólöf,19900107\n`),
    ]),
  );
  add(
    {
      file: 'utf8-replacement-character-in-text.csv',
      about: 'a U+FFFD the file really holds (valid bytes EF BF BD) is text, not invalid_encoding',
      layout: { encoding: 'utf-8' },
      rows: [{ line: 2, query: q(N[6], '19900108', { familyName: 'Łoś' }), cells: [N[6], 'Łoś', '19900108', 'was \uFFFD in the source'] }],
    },
    lines(['NHS Number,Surname,DOB,Notes', `${N[6]},Łoś,19900108,was \uFFFD in the source`]),
  );
  add(
    {
      file: 'windows-1252-with-a-utf8-lookalike.csv',
      about: 'Windows-1252 whose Ã© happens to be valid UTF-8: more invalid bytes than valid characters, still Windows-1252',
      layout: { encoding: 'windows-1252' },
      rows: [
        { line: 2, query: q(N[7], '19900109', { familyName: 'Müller', givenName: 'Ã©mile' }) },
        { line: 3, query: q(N[8], '19900110', { familyName: 'Døssing', givenName: 'Zoë' }) },
      ],
    },
    win(lines(['NHS Number,Surname,Forename,DOB', `${N[7]},Müller,Ã©mile,19900109`, `${N[8]},Døssing,Zoë,19900110`])),
  );
}

// ── Delimiters and line endings ──────────────────────────────────────────────────────────────
add(
  {
    file: 'semicolon-crlf-commas-in-cells.csv',
    about: 'semicolons (Excel in a decimal-comma locale), CRLF, unquoted commas inside addresses',
    layout: { delimiter: ';', fields: { nhsNumber: 0, familyName: 1, dateOfBirth: 2, sex: 3, address1: 4 } },
    rows: [
      { line: 2, query: q(N[1], '19770707', { familyName: 'SMITH', sex: '1' }), cells: [N[1], 'SMITH', '07.07.1977', 'M', '1, High Street, Leeds'] },
      { line: 3, query: q(N[2], '19781108', { familyName: 'JONES', sex: '2' }) },
    ],
  },
  lines(['NHS Number;Surname;DOB;Sex;Address Line 1', `${N[1]};SMITH;07.07.1977;M;1, High Street, Leeds`, `${N[2]};JONES;08.11.1978;F;2, Low Road, York`], '\r\n'),
);
add(
  {
    file: 'tab-delimited.tsv',
    about: 'tab-delimited with commas in cells',
    layout: { delimiter: '\t' },
    rows: [{ line: 2, query: q(N[3], '19500101', { familyName: 'SMITH, JR', sex: '1' }) }],
  },
  lines(['NHS Number\tSurname\tDOB\tSex', `${N[3]}\tSMITH, JR\t1950-01-01\t1`]),
);
add(
  {
    file: 'cr-line-endings.csv',
    about: 'classic Mac CR-only line endings ("CSV (Macintosh)")',
    rows: [
      { line: 2, query: q(N[4], '19610101') },
      { line: 3, query: q(N[5], '19620202') },
    ],
  },
  lines(['NHS Number,DOB', `${N[4]},19610101`, `${N[5]},19620202`], '\r'),
);
add(
  {
    file: 'mixed-line-endings.csv',
    about: 'CRLF, LF and CR in one file (concatenated exports): each still ends a line',
    rows: [
      { line: 2, query: q(N[6], '19630303') },
      { line: 3, query: q(N[7], '19640404') },
      { line: 4, query: q(N[8], '19650505') },
    ],
  },
  `NHS Number,DOB\r\n${N[6]},19630303\n${N[7]},19640404\r${N[8]},19650505\r\n`,
);

add(
  {
    file: 'unquoted-line-feed-in-crlf-file.csv',
    about: 'a bare LF inside an unquoted cell of a CRLF file (SQL exports of free text) stays in the cell',
    rows: [
      { line: 2, query: q(N[9], '19700101'), cells: [N[9], '19700101', 'seen in\nclinic'] },
      { line: 4, query: q(N[8], '19700102'), cells: [N[8], '19700102', 'none'] },
    ],
  },
  lines(['NHS Number,DOB,Notes', `${N[9]},19700101,seen in\nclinic`, `${N[8]},19700102,none`], '\r\n'),
);

// ── Quotes and embedded newlines ─────────────────────────────────────────────────────────────
add(
  {
    file: 'quoted-embedded-newlines.csv',
    about: 'a quoted address holding CRLF and LF: one row, and later rows keep their physical line numbers',
    rows: [
      { line: 2, query: q(N[9], '19700101', { familyName: 'SMITH' }), cells: [N[9], 'SMITH', '1970-01-01', 'Flat 1\r\n2 High St\nLeeds'] },
      { line: 5, query: q(N[0], '19700102', { familyName: 'JONES' }) },
    ],
  },
  lines(['NHS Number,Surname,DOB,Address', `${N[9]},SMITH,1970-01-01,"Flat 1\r\n2 High St\nLeeds"`, `${N[0]},JONES,1970-01-02,"1 Low Rd"`], '\r\n'),
);
add(
  {
    file: 'quoted-delimiters-and-doubled-quotes.csv',
    about: 'quoted cells holding delimiters and doubled quotes',
    rows: [{ line: 2, query: q(N[1], '19700103', { familyName: 'SMITH, JR', givenName: 'Mary "Molly"' }), cells: [N[1], 'SMITH, JR', 'Mary "Molly"', '1970-01-03'] }],
  },
  lines(['NHS Number,Surname,Forename,DOB', `${N[1]},"SMITH, JR","Mary ""Molly""",1970-01-03`]),
);
add(
  {
    file: 'stray-quote-in-unquoted-cell.csv',
    about: 'a quote inside an unquoted cell is kept as written, not treated as CSV quoting',
    rows: [{ line: 2, query: q(N[2], '19700104', { familyName: 'O"BRIEN' }), cells: [N[2], 'O"BRIEN', '1970-01-04', `5'10"`] }],
  },
  lines(['NHS Number,Surname,DOB,Height', `${N[2]},O"BRIEN,1970-01-04,5'10"`]),
);
add(
  {
    file: 'unclosed-quote-at-end.csv',
    about: 'a quote opened and never closed: that line is one bad row and the lines after it are still read',
    rows: [
      { line: 2, query: q(N[3], '19700105', { familyName: 'SMITH' }) },
      { line: 3, reason: 'unclosed_quote', cells: [`${N[4]},"JONES,1970-01-06`] },
      { line: 4, query: q(N[5], '19700107', { familyName: 'BROWN' }) },
      { line: 5, query: q(N[6], '19700108', { familyName: 'GREEN' }) },
    ],
  },
  lines(['NHS Number,Surname,DOB', `${N[3]},SMITH,1970-01-05`, `${N[4]},"JONES,1970-01-06`, `${N[5]},BROWN,1970-01-07`, `${N[6]},GREEN,1970-01-08`]),
);
{
  const after = Array.from({ length: 30 }, (_, i) => `${N[i % N.length]},AFTER${i},1980-01-01`);
  add(
    {
      file: 'record-too-large.csv',
      about: 'an unclosed quote followed by more than the maximum record size: one record_too_large row, then the rest',
      options: { maxRecordBytes: 256 },
      rowCount: 32,
      someRows: {
        '1': { line: 2, query: q(N[7], '19700109', { familyName: 'FIRST' }) },
        // Given back as read: the record's first line, raw, as one cell (the lines after it are rows).
        '2': { line: 3, reason: 'record_too_large', cells: [`${N[8]},"NEVER CLOSED,1970-01-10`] },
        '3': { line: 4, query: q(N[0], '19800101', { familyName: 'AFTER0' }) },
        '32': { line: 33, query: q(N[9], '19800101', { familyName: 'AFTER29' }) },
      },
    },
    lines(['NHS Number,Surname,DOB', `${N[7]},FIRST,1970-01-09`, `${N[8]},"NEVER CLOSED,1970-01-10`, ...after]),
  );
}

// ── Ragged rows, blank lines, empty files ────────────────────────────────────────────────────
add(
  {
    file: 'ragged-rows.csv',
    about: 'short and long rows (an unquoted comma in a name) are ragged_row, never dropped',
    rows: [
      { line: 2, query: q(N[8], '19700111', { familyName: 'SMITH', givenName: 'ANN', sex: '2' }) },
      { line: 3, reason: 'ragged_row', cells: [N[9], 'JONES', 'BOB', '1970-01-12'] },
      { line: 4, reason: 'ragged_row', cells: [N[0], 'SMITH', ' JR', 'ANN', '1970-01-13', 'F'] },
      { line: 5, query: q(N[1], '19700114', { familyName: 'BROWN', givenName: 'CAL', sex: '1' }) },
    ],
  },
  lines(['NHS Number,Surname,Forename,DOB,Sex', `${N[8]},SMITH,ANN,1970-01-11,F`, `${N[9]},JONES,BOB,1970-01-12`, `${N[0]},SMITH, JR,ANN,1970-01-13,F`, `${N[1]},BROWN,CAL,1970-01-14,M`]),
);
add(
  {
    file: 'blank-lines-and-empty-rows.csv',
    about: 'blank lines, whitespace-only lines and all-empty ",,," rows are not rows; line numbers stay physical',
    rows: [
      { line: 3, query: q(N[2], '19700115') },
      { line: 7, query: q(N[3], '19700116') },
    ],
  },
  `NHS Number,DOB,Note\n\n${N[2]},19700115,\n,,\n   \n\n${N[3]},19700116,x\n,,\n\n\n`,
);
add(
  {
    file: 'trailing-unnamed-header-cells.csv',
    about: 'unnamed trailing header cells may be missing from a row; a row wider than the header is ragged',
    layout: { headers: ['NHS Number', 'DOB', '', ''] },
    rows: [
      { line: 2, query: q(N[4], '19700117') },
      { line: 3, query: q(N[5], '19700118') },
      { line: 4, reason: 'ragged_row' },
    ],
  },
  lines(['NHS Number,DOB,,', `${N[4]},19700117`, `${N[5]},19700118,,`, `${N[6]},19700119,,,x`]),
);
// A file with no data rows is rejected as a whole (no_rows): a batch of nothing is the wrong file.
const NO_ROWS = { reason: 'no_rows' };
add({ file: 'empty.csv', about: 'a zero-byte file: rejected, no_rows', error: NO_ROWS }, '');
add({ file: 'bom-only.csv', about: 'a file holding only a UTF-8 BOM: rejected, no_rows', error: NO_ROWS }, BOM);
add({ file: 'blank-lines-only.csv', about: 'only blank lines: rejected, no_rows', error: NO_ROWS }, '\n\r\n\n   \n');
add({ file: 'header-only.csv', about: 'a recognised header and no data: rejected, no_rows', error: NO_ROWS }, lines([STD_HEADER]));
add({ file: 'header-only-unrecognised.csv', about: 'an unrecognised header and no data: no_rows, not a column error', error: NO_ROWS }, lines(['Name,Age,Town']));
add({ file: 'mesh-control-line-only.csv', about: 'a PDS MESH control line announcing no records, and nothing else: no_rows', error: NO_ROWS }, lines(['MPTREQ_20250630120003,SPINE_PDS_MESH_V1,20250630120003,0']));

// ── Layout: header words, ambiguity, rejection ───────────────────────────────────────────────
add(
  {
    file: 'unmappable-columns.csv',
    about: 'data under columns that name no traceable field: rejected, listing found and missing',
    error: { reason: 'columns_not_mapped', found: ['Name', 'Age', 'Town'], missing: ['dateOfBirth', 'nhsNumber', 'familyName', 'sex'] },
  },
  lines(['Name,Age,Town', 'Somebody,40,Leeds']),
);
add(
  {
    file: 'headerless-data.csv',
    about: 'a file with no header row: rejected without echoing the first row (it is patient data)',
    error: { reason: 'columns_not_mapped', found: [] },
  },
  lines([`${N[7]},SMITH,JOHN,20010403,1`, `${N[8]},JONES,MARY,19851231,2`]),
);
add(
  {
    file: 'ambiguous-nhs-columns.csv',
    about: 'two columns that could both be the NHS number: rejected, saying which',
    error: { reason: 'columns_ambiguous', missing: ['nhsNumber'] },
  },
  lines(['NHS Number,Patient NHS No,DOB', `${N[9]},${N[0]},2001-01-01`]),
);
add(
  {
    file: 'headers-prefixed-abbreviated.csv',
    about: 'prefixed, abbreviated, pluralised, punctuated headers and a local id named after its system',
    layout: {
      kind: 'header',
      fields: { nhsNumber: 0, familyName: 1, givenName: 2, dateOfBirth: 3, sex: 4, postcode: 5, localId: 6, address1: 7, address2: 8 },
      warnings: ['"Ethnicity"'],
    },
    rows: [{ line: 2, query: q(N[1], '19910101', { familyName: 'SMITH', givenName: 'JO', sex: '9', postcode: 'LS1 1AA', localId: 'E123' }) }],
  },
  lines(['Patient NHSNumber,PAS_Surname,Pt Forename(s),D.O.B.,Gender,Post_Code,EMIS Number,Address Line 1,ADD2,Ethnicity', `${N[1]},SMITH,JO,01/01/1991,9,ls1 1aa,E123,1 High St,Leeds,Z`]),
);
add(
  {
    file: 'headers-run-together-caps.csv',
    about: 'run-together capitals (NHSNO, FAMILYNAME, DATEOFBIRTH)',
    layout: { fields: STD_FIELDS },
    rows: [{ line: 2, query: q(N[2], '19920202', { familyName: 'SMITH', givenName: 'AL', sex: '1', postcode: 'M1 1AE', localId: 'X9' }) }],
  },
  lines(['NHSNO,FAMILYNAME,GIVENNAME,DATEOFBIRTH,SEX,POSTCODE,LOCALID', `${N[2]},SMITH,AL,19920202,1,M11AE,X9`]),
);
add(
  {
    file: 'headers-with-lookalike-columns.csv',
    about: "columns about someone else or about a field (mother's NHS number, previous surname, status indicator, GP postcode) are not mistaken for the patient's",
    layout: {
      fields: { nhsNumber: 0, familyName: 3, givenName: 5, dateOfBirth: 7, sex: 9, postcode: 12, localId: 13 },
      warnings: ['"NHS Number Status Indicator"', '"Episode ID"'],
    },
    rows: [{ line: 2, query: q(N[3], '19930303', { familyName: 'SMITH', givenName: 'EVE', sex: '2', postcode: 'YO1 1AA', localId: 'H1' }) }],
  },
  lines([
    'NHS Number,NHS Number Status Indicator,Mother NHS Number,Surname,Previous Surname,Forename,Preferred Name,DOB,Date of Death,Sex,Gender Identity,GP Practice Postcode,Postcode,Hospital Number,Episode ID',
    `${N[3]},01,${N[4]},SMITH,JONES,EVE,EVIE,1993-03-03,,F,Z,LS1 1AA,YO1 1AA,H1,EP7`,
  ]),
);
add(
  {
    file: 'local-id-ambiguous.csv',
    about: 'two possible local id columns: neither is used and a warning says so; rows still trace',
    layout: { fields: { nhsNumber: 0, dateOfBirth: 1 }, warnings: ['"Study ID", "Hospital Number" could each be the local id'] },
    rows: [{ line: 2, query: q(N[5], '19940404') }],
  },
  lines(['NHS Number,DOB,Study ID,Hospital Number', `${N[5]},1994-04-04,S1,H1`]),
);
add(
  {
    file: 'column-could-be-two-fields.csv',
    about: 'one column that could be family or given name is not used, and a warning names it',
    layout: { fields: { nhsNumber: 0, dateOfBirth: 1 }, warnings: ['"Surname/Forename" could be any of familyName, givenName'] },
    rows: [{ line: 2, query: q(N[6], '19950505') }],
  },
  lines(['NHS No,DOB,Surname/Forename', `${N[6]},1995-05-05,SMITH/ANN`]),
);

// ── Explicit mapping files ───────────────────────────────────────────────────────────────────
add(
  {
    file: 'mapping-json.csv',
    about: '--mapping as JSON: header names (exact or case-insensitive) and a #position',
    options: { mappingFile: 'mapping-json.mapping.json' },
    layout: { kind: 'mapping', fields: { nhsNumber: 0, familyName: 1, dateOfBirth: 3, sex: 4, localId: 5 } },
    rows: [{ line: 2, query: q(N[7], '19960606', { familyName: 'SMITH', sex: '2', localId: 'R1' }) }],
  },
  lines(['Ident,FAM,Giv,Born On,S,Ref', `${N[7]},SMITH,ANN,1996-06-06,F,R1`]),
);
files.set('mapping-json.mapping.json', Buffer.from(JSON.stringify({ nhsNumber: 'Ident', familyName: 'fam', dateOfBirth: 'Born On', sex: 'S', localId: '#6' }, null, 2) + '\n'));
add(
  {
    file: 'mapping-lines-headerless.csv',
    about: '--mapping as field = column lines for a file with no header row (header = none)',
    options: { mappingFile: 'mapping-lines-headerless.mapping.txt' },
    layout: { kind: 'mapping', headers: ['column 1', 'column 2', 'column 3', 'column 4', 'column 5'], fields: { nhsNumber: 0, familyName: 1, givenName: 2, dateOfBirth: 3, sex: 4 } },
    rows: [
      { line: 1, query: q(N[8], '20010403', { familyName: 'SMITH', givenName: 'JOHN', sex: '1' }) },
      { line: 2, query: q(N[9], '19851231', { familyName: 'JONES', givenName: 'MARY', sex: '2' }) },
    ],
  },
  lines([`${N[8]},SMITH,JOHN,20010403,1`, `${N[9]},JONES,MARY,19851231,2`]),
);
files.set('mapping-lines-headerless.mapping.txt', Buffer.from('# positions, because the file has no header row\nheader = none\nnhs_number = 1\nfamily_name = 2\ngiven_name = 3\ndate_of_birth = 4\nsex = 5\n'));
add(
  {
    file: 'mapping-column-missing.csv',
    about: '--mapping naming a column the file does not have: rejected, listing the columns found',
    options: { mappingFile: 'mapping-column-missing.mapping.txt' },
    error: { reason: 'columns_not_mapped', found: ['NHS Number', 'DOB'] },
  },
  lines(['NHS Number,DOB', `${N[0]},2001-01-01`]),
);
files.set('mapping-column-missing.mapping.txt', Buffer.from('nhsNumber = NHS Number\ndateOfBirth = Birth Date\n'));

// ── Field values ─────────────────────────────────────────────────────────────────────────────
add(
  {
    file: 'nhs-number-forms.csv',
    about: 'NHS numbers with spaces and dashes accepted; check-digit failures, spreadsheet damage and placeholders reported',
    rows: [
      { line: 2, query: q(N[0], '20000101') },
      { line: 3, query: q(N[1], '20000101') },
      { line: 4, query: q(N[2], '20000101') },
      { line: 5, reason: 'nhs_number_check_digit', field: 'nhsNumber' },
      { line: 6, reason: 'nhs_number_excel_damaged', field: 'nhsNumber' },
      { line: 7, reason: 'nhs_number_excel_damaged', field: 'nhsNumber' },
      { line: 8, reason: 'nhs_number_excel_damaged', field: 'nhsNumber' },
      { line: 9, reason: 'nhs_number_format', field: 'nhsNumber' },
      { line: 10, reason: 'nhs_number_format', field: 'nhsNumber' },
      { line: 11, reason: 'nhs_number_placeholder', field: 'nhsNumber' },
      { line: 12, reason: 'nhs_number_placeholder', field: 'nhsNumber' },
    ],
  },
  lines(['NHS Number,DOB', '999 000 0018,20000101', '999-000-0026,20000101', '"999\u00a0000\u00a00034",20000101', '9990000019,20000101', '9.99E+09,20000101', '9990000042.0,20000101', '990000028,20000101', '99900000,20000101', '999000001X,20000101', '0000000000,20000101', '9999999999,20000101']),
);
{
  const forms: [string, string][] = [
    ['20010403', '20010403'], ['2001-04-03', '20010403'], ['2001/04/03', '20010403'], ['03/04/2001', '20010403'], ['3/4/2001', '20010403'],
    ['03-04-2001', '20010403'], ['03.04.2001', '20010403'], ['200104', '200104'], ['2001', '2001'], ['2001-04', '200104'], ['04/2001', '200104'],
    ['200104031230', '20010403'], ['2001-04-03T00:00:00', '20010403'], ['03/04/2001 00:00', '20010403'], ['3-Apr-2001', '20010403'], ['03 April 2001', '20010403'],
  ];
  const rows: RowExpectation[] = forms.map(([, dob], i) => ({ line: i + 2, query: q(N[0], dob) }));
  rows.push({ line: forms.length + 2, query: q(N[0], '20010403'), flags: ['date_of_birth_excel_serial'] });
  add(
    { file: 'date-forms-day-first.csv', about: 'every accepted date form, day-first (the UK default), and an Excel serial number', rows },
    lines(['NHS Number,DOB', ...[...forms.map(([raw]) => raw), '36984'].map((d) => `${N[0]},${d}`)]),
  );
}
add(
  {
    file: 'date-forms-month-first.csv',
    about: 'dayFirst false: slash dates are month-first; a day-first date then has a month over 12',
    options: { dayFirst: false },
    rows: [
      { line: 2, query: q(N[1], '20010403') },
      { line: 3, query: q(N[1], '19851231') },
      { line: 4, reason: 'date_of_birth_invalid', field: 'dateOfBirth' },
      { line: 5, query: q(N[1], '20010403') },
    ],
  },
  lines(['NHS Number,DOB', `${N[1]},04/03/2001`, `${N[1]},12/31/1985`, `${N[1]},31/12/1985`, `${N[1]},2001-04-03`]),
);
add(
  {
    file: 'date-problems.csv',
    about: 'dates in the future, ambiguous, impossible, implausible, unreadable or missing (today is 2025-06-30)',
    rows: [
      { line: 2, reason: 'date_of_birth_in_future', field: 'dateOfBirth' },
      { line: 3, reason: 'date_of_birth_in_future', field: 'dateOfBirth' },
      { line: 4, reason: 'date_of_birth_in_future', field: 'dateOfBirth' },
      { line: 5, reason: 'date_of_birth_ambiguous', field: 'dateOfBirth' },
      { line: 6, reason: 'date_of_birth_invalid', field: 'dateOfBirth' },
      { line: 7, reason: 'date_of_birth_invalid', field: 'dateOfBirth' },
      { line: 8, reason: 'date_of_birth_implausible', field: 'dateOfBirth' },
      { line: 9, reason: 'date_of_birth_excel_serial_out_of_range', field: 'dateOfBirth' },
      { line: 10, reason: 'date_of_birth_format', field: 'dateOfBirth' },
      { line: 11, reason: 'missing_date_of_birth', field: 'dateOfBirth' },
      { line: 12, query: q(N[2], '20250630') },
      { line: 13, query: q(N[2], '2025') },
    ],
  },
  lines(['NHS Number,DOB', ...['2030-01-01', '2026', '202507', '03/04/01', '31/02/2001', '13/13/2001', '1753-01-01', '99999', 'not a date', '', '30/06/2025', '2025'].map((d) => `${N[2]},${d}`)]),
);
add(
  {
    file: 'sex-forms.csv',
    about: 'sex as 0/1/2/9, M/F/U and words, in any case; unrecognised values reported; absent sex is fine with an NHS number',
    rows: [
      ['0', '0'], ['1', '1'], ['2', '2'], ['9', '9'], ['M', '1'], ['F', '2'], ['U', '0'], ['m', '1'], ['f', '2'], ['male', '1'], ['Female', '2'], ['UNKNOWN', '0'], ['not known', '0'], ['Not Specified', '9'],
    ]
      .map(([, sex], i): RowExpectation => ({ line: i + 2, query: q(N[3], '19800101', { sex: sex! }) }))
      .concat([
        { line: 16, reason: 'sex_unrecognised', field: 'sex' },
        { line: 17, reason: 'sex_unrecognised', field: 'sex' },
        { line: 18, query: q(N[3], '19800101') },
      ]),
  },
  lines(['NHS Number,DOB,Sex', ...['0', '1', '2', '9', 'M', 'F', 'U', 'm', 'f', 'male', 'Female', 'UNKNOWN', 'not known', 'Not Specified', 'X', '3', ''].map((s) => `${N[3]},19800101,${s}`)]),
);
add(
  {
    file: 'postcode-forms.csv',
    about: 'postcodes upper-cased with the single space restored; wildcards kept; non-postcodes reported',
    rows: [
      { line: 2, query: q(N[4], '19800101', { postcode: 'LS1 1AA' }) },
      { line: 3, query: q(N[4], '19800101', { postcode: 'SW1A 2AA' }) },
      { line: 4, query: q(N[4], '19800101', { postcode: 'M1 1AE' }) },
      { line: 5, query: q(N[4], '19800101', { postcode: 'LS1*' }) },
      { line: 6, reason: 'postcode_format', field: 'postcode' },
      { line: 7, query: q(N[4], '19800101') },
    ],
  },
  lines(['NHS Number,DOB,Postcode', ...['ls11aa', ' sw1a  2aa ', 'M11AE', 'ls1*', 'NOT KNOWN', ''].map((p) => `${N[4]},19800101,${p}`)]),
);
add(
  {
    file: 'names-whitespace.csv',
    about: 'names trimmed and inner whitespace collapsed; case, apostrophes and hyphens untouched',
    rows: [
      { line: 2, query: q(N[5], '19800101', { familyName: 'SMITH', givenName: 'mary-jane' }), cells: [N[5], '  SMITH  ', 'mary-jane', '19800101'] },
      { line: 3, query: q(N[5], '19800101', { familyName: 'VAN DER BERG', givenName: "O'Neil" }) },
      { line: 4, query: q(N[5], '19800101', { familyName: 'DE LA CRUZ', givenName: 'Ana Maria' }) },
    ],
  },
  lines(['NHS Number,Surname,Forename,DOB', `${N[5]},  SMITH  ,mary-jane,19800101`, `${N[5]},"VAN  DER\tBERG",O'Neil,19800101`, `${N[5]},DE\u00a0LA  CRUZ,  Ana   Maria ,19800101`]),
);
add(
  {
    file: 'missing-trace-fields.csv',
    about: 'a row needs NHS number + DOB, or family name + sex + DOB',
    rows: [
      { line: 2, query: q(N[6], '19800101') },
      { line: 3, query: q(undefined, '19800101', { familyName: 'SMITH', sex: '1' }) },
      { line: 4, reason: 'missing_family_name', field: 'familyName' },
      { line: 5, reason: 'missing_sex', field: 'sex' },
      { line: 6, reason: 'missing_date_of_birth', field: 'dateOfBirth' },
      { line: 7, reason: 'nhs_number_check_digit', field: 'nhsNumber' },
    ],
  },
  lines(['NHS Number,Surname,DOB,Sex', `${N[6]},,19800101,`, ',SMITH,19800101,M', ',,19800101,M', ',SMITH,19800101,', `${N[6]},SMITH,,M`, '9990000019,SMITH,19800101,M']),
);
add(
  {
    file: 'duplicate-local-ids.csv',
    about: 'a local id seen on an earlier row is flagged (after trimming, case-sensitive); the row is still traced',
    rows: [
      { line: 2, query: q(N[7], '19800101', { localId: 'L1' }) },
      { line: 3, query: q(N[7], '19800102', { localId: 'L2' }) },
      { line: 4, query: q(N[7], '19800103', { localId: 'L1' }), flags: ['duplicate_local_id'] },
      { line: 5, query: q(N[7], '19800104', { localId: 'l1' }) },
      { line: 6, query: q(N[7], '19800105', { localId: 'L2' }), flags: ['duplicate_local_id'] },
      { line: 7, reason: 'date_of_birth_format', flags: ['duplicate_local_id'] },
    ],
  },
  lines(['Local ID,NHS Number,DOB', `L1,${N[7]},19800101`, `L2,${N[7]},19800102`, `L1,${N[7]},19800103`, `l1,${N[7]},19800104`, ` L2 ,${N[7]},19800105`, `L1,${N[7]},nonsense`]),
);
add(
  {
    file: 'null-placeholders.csv',
    about: 'NULL, N/A and - in coded fields are empty values (SQL exports), not errors',
    rows: [
      { line: 2, query: q(undefined, '19800101', { familyName: 'SMITH', sex: '2' }) },
      { line: 3, query: q(N[8], '19800101') },
      { line: 4, reason: 'missing_date_of_birth', field: 'dateOfBirth' },
    ],
  },
  lines(['NHS Number,Surname,DOB,Sex,Postcode', 'NULL,SMITH,19800101,F,N/A', `${N[8]},,19800101,-,NULL`, `${N[8]},SMITH,NULL,F,`]),
);
add(
  {
    file: 'control-characters.csv',
    about: 'a control character in a name makes the row invalid',
    rows: [{ line: 2, reason: 'invalid_characters', field: 'familyName' }],
  },
  lines(['NHS Number,Surname,DOB', `${N[9]},SMI\u0001TH,19800101`]),
);

// ── PDS MESH request layout ──────────────────────────────────────────────────────────────────
const meshRow = (ref: string, nhs: string, family: string, given: string, sex: string, dob: string, postcode: string, width = 23) => {
  const cells = [ref, nhs, family, given, '', sex, dob, postcode, '', '1 HIGH ST', 'LEEDS', '', '', '', '', 'B86001'];
  while (cells.length < width) cells.push('');
  return cells.join(',');
};
const MESH_23 = ['UNIQUE REFERENCE', 'NHS_NO', 'FAMILY_NAME', 'GIVEN_NAME', 'OTHER_GIVEN_NAME', 'GENDER', 'DATE_OF_BIRTH', 'POSTCODE', 'DATE_OF_DEATH', 'ADDRESS_LINE1', 'ADDRESS_LINE2', 'ADDRESS_LINE3', 'ADDRESS_LINE4', 'ADDRESS_LINE5', 'ADDRESS_DATE', 'GP_PRACTICE_CODE', 'NHAIS_POSTING_ID', 'AS_AT_DATE', 'LOCAL_PATIENT_ID', 'INTERNAL_ID', 'TELEPHONE_NUMBER', 'MOBILE_NUMBER', 'EMAIL_ADDRESS'];
const MESH_24 = [...MESH_23.slice(0, 16), 'GP_REGISTRATION_DATE', ...MESH_23.slice(16)];
const MESH_FIELDS = { localId: 0, nhsNumber: 1, familyName: 2, givenName: 3, sex: 5, dateOfBirth: 6, postcode: 7, address1: 9, address2: 10, address3: 11, address4: 12, address5: 13 };
add(
  {
    file: 'MPTREQ_20250630120000.csv',
    about: 'PDS MESH request: control line then positional 23-column rows (DSP); a short row is ragged',
    layout: { kind: 'mesh', headers: MESH_23, fields: MESH_FIELDS },
    rows: [
      { line: 2, query: q(N[0], '20010403', { familyName: 'SMITH', givenName: 'JOHN', sex: '1', postcode: 'LS1 1AA', localId: 'REF001' }) },
      { line: 3, query: q(undefined, '1985', { familyName: 'JONES', givenName: 'MARY', sex: '2', postcode: 'M1 1AE', localId: 'REF002' }) },
      { line: 4, reason: 'ragged_row' },
    ],
  },
  lines(['MPTREQ_20250630120000,SPINE_PDS_MESH_V1,20250630120000,3', meshRow('REF001', N[0], 'SMITH', 'JOHN', '1', '200104031230', 'LS11AA'), meshRow('REF002', '', 'JONES', 'MARY', '2', '1985', 'M1 1AE'), 'REF003,' + N[1] + ',BROWN,AMY,,2,19700101,B1 1AA,,,,,,,,'], '\r\n'),
);
add(
  {
    file: 'mesh-dorset-bom-column-names.csv',
    about: 'PDS MESH with a BOM, control line and a column-name row, 24 columns (Dorset)',
    layout: { kind: 'mesh', bom: true, headers: MESH_24, fields: MESH_FIELDS },
    rows: [{ line: 3, query: q(N[2], '19700101', { familyName: 'GREEN', givenName: 'TOM', sex: '1', postcode: 'CF10 1AA', localId: 'R1' }) }],
  },
  BOM + lines(['MPTREQ_20250630120001,SPINE_PDS_MESH_V1,20250630120001,1', MESH_24.join(','), meshRow('R1', N[2], 'GREEN', 'TOM', '1', '19700101', 'CF10 1AA', 24)]),
);
add(
  {
    file: 'mesh-count-mismatch.csv',
    about: 'PDS MESH control line announcing more records than the file has: read, with a warning',
    layout: { kind: 'mesh', warnings: ['announces 3 data records but the file has 2'] },
    rowCount: 2,
  },
  lines(['MPTREQ_20250630120002,SPINE_PDS_MESH_V1,20250630120002,3', meshRow('A', N[3], 'X', 'Y', '1', '19700101', 'LS1 1AA'), meshRow('B', N[4], 'X', 'Y', '2', '19700101', 'LS1 1AA')]),
);
add(
  {
    file: 'mesh-column-names-without-control-line.csv',
    about: 'PDS MESH column names with no control line: the MESH layout, with a warning',
    layout: { kind: 'mesh', fields: MESH_FIELDS, warnings: ['control line is not'] },
    rows: [{ line: 2, query: q(N[5], '19700101', { familyName: 'X', givenName: 'Y', sex: '1', postcode: 'LS1 1AA', localId: 'A' }) }],
  },
  lines([MESH_23.join(','), meshRow('A', N[5], 'X', 'Y', '1', '19700101', 'LS1 1AA')]),
);

for (const [name, bytes] of files) writeFileSync(path.join(here, name), bytes);
writeFileSync(path.join(here, 'expected.json'), JSON.stringify(cases, null, 2) + '\n');
console.log(`wrote ${cases.length} cases, ${files.size} files`);
