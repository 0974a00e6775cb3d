import { NS, OID, type Interaction } from '../smsp/interactions.js';
import { childElement, type XmlElement } from './xml-tree.js';

/**
 * A hand-written structural check of the HL7 V3 request payloads against what their schemas
 * (QUPA_MT000001–5GB01 with the NHS datatype flavours, SPEC §4) require: element order and
 * cardinality, fixed attribute values, the semanticsText of each parameter, one given name, the
 * date pattern, the Sex code set, the NHS number root. Full XSD validation (xmllint-wasm) is a dev
 * dependency and far too slow per request; the tests check that what passes here also passes the XSDs.
 *
 * Problems name the element path and the constraint, never the value: they reach logs and clients.
 */

type ParameterName = 'DateOfBirth' | 'Gender' | 'LocalIdentifier' | 'NHSNumber' | 'Name' | 'Postcode';

interface Slot {
  name: string;
  min: number;
  max: number;
}

/** queryEvent children per interaction, in schema order (SPEC §4.3). */
const PARAMETERS: Readonly<Record<Interaction, ReadonlyArray<{ name: ParameterName; required: boolean }>>> = {
  verifyNHSNumber: [
    { name: 'DateOfBirth', required: true },
    { name: 'NHSNumber', required: true },
    { name: 'Name', required: false },
  ],
  getNHSNumber: [
    { name: 'DateOfBirth', required: true },
    { name: 'Gender', required: true },
    { name: 'LocalIdentifier', required: false },
    { name: 'Name', required: true },
    { name: 'Postcode', required: false },
  ],
  getPatientDetailsByNHSNumber: [
    { name: 'DateOfBirth', required: true },
    { name: 'LocalIdentifier', required: false },
    { name: 'NHSNumber', required: true },
    { name: 'Name', required: false },
  ],
  getPatientDetailsBySearch: [
    { name: 'DateOfBirth', required: true },
    { name: 'Gender', required: true },
    { name: 'LocalIdentifier', required: false },
    { name: 'Name', required: true },
    { name: 'Postcode', required: false },
  ],
  getPatientDetails: [
    { name: 'DateOfBirth', required: true },
    { name: 'Gender', required: false },
    { name: 'LocalIdentifier', required: false },
    { name: 'NHSNumber', required: false },
    { name: 'Name', required: false },
    { name: 'Postcode', required: false },
  ],
};

/** The searches take PN.NHS.PersonNameType3, which prohibits @use; the others Type1 (SPEC §4.2). */
const NAME_USE_PROHIBITED: ReadonlySet<Interaction> = new Set(['getNHSNumber', 'getPatientDetailsBySearch']);

/** HL7 infrastructure elements every complex type may open with (InfrastructureRootElementsGroupAll). */
const INFRASTRUCTURE: readonly Slot[] = [
  { name: 'realmCode', min: 0, max: Infinity },
  { name: 'typeId', min: 0, max: 1 },
  { name: 'templateId', min: 0, max: Infinity },
];

const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const OID_PATTERN = /^[0-9]+(\.[0-9]+)*$/;
/** HL7 `ts` (datatypes.xsd), then narrowed to the precisions PDS holds for a birth date (SPEC §4.4). */
const TS_PATTERN = /^(?:[0-9]{1,8}|(?:[0-9]{9,14}|[0-9]{14}\.[0-9]+)(?:[+-][0-9]{1,4})?)$/;
const DATE_OF_BIRTH = /^[0-9]{4}(?:(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])?)?$/;
const SEX_CODES = new Set(['0', '1', '2', '9']);

class Problems {
  readonly list: string[] = [];
  add(path: string, problem: string): void {
    this.list.push(`${path}: ${problem}`);
  }
}

/** Structural problems of a request payload for `interaction`; empty when it is well-formed. */
export function checkPayloadStructure(interaction: Interaction, payload: XmlElement): string[] {
  const problems = new Problems();
  const root = payload.name;
  requireAttribute(payload, root, 'classCode', 'CACT', problems);
  requireAttribute(payload, root, 'moodCode', 'EVN', problems);
  checkSequence(payload, root, [{ name: 'id', min: 1, max: 1 }, { name: 'code', min: 1, max: 1 }, { name: 'queryEvent', min: 1, max: 1 }], problems);

  const id = childElement(payload, 'id', NS.hl7);
  // II.NHS.IdentifierType2: an upper-case UUID root, extension prohibited.
  if (id !== undefined && !UPPER_UUID.test(id.attrs.get('root') ?? '')) problems.add(`${root}/id/@root`, 'must be an upper-case UUID');
  if (id?.attrs.has('extension')) problems.add(`${root}/id/@extension`, 'is prohibited');

  const queryEvent = childElement(payload, 'queryEvent', NS.hl7);
  if (queryEvent === undefined) return problems.list;
  const parameters = PARAMETERS[interaction];
  const queryPath = `${root}/queryEvent`;
  checkSequence(
    queryEvent,
    queryPath,
    parameters.map((p) => ({ name: `Person.${p.name}`, min: p.required ? 1 : 0, max: 1 })),
    problems,
  );
  for (const { name } of parameters) {
    const element = childElement(queryEvent, `Person.${name}`, NS.hl7);
    if (element !== undefined) checkParameter(interaction, name, element, `${queryPath}/Person.${name}`, problems);
  }
  return problems.list;
}

function checkParameter(interaction: Interaction, name: ParameterName, element: XmlElement, path: string, problems: Problems): void {
  // Optional parameters are nillable in the schema: xsi:nil="true" with no content is allowed.
  if (element.attrs.get('nil') === 'true' && element.children.length === 0) return;
  checkSequence(element, path, [{ name: 'value', min: 1, max: 1 }, { name: 'semanticsText', min: 1, max: 1 }], problems);
  const semanticsText = childElement(element, 'semanticsText', NS.hl7);
  if (semanticsText !== undefined && semanticsText.text !== `Person.${name}`) {
    problems.add(`${path}/semanticsText`, `must be the fixed text Person.${name}`);
  }
  const value = childElement(element, 'value', NS.hl7);
  if (value === undefined) return;
  const valuePath = `${path}/value`;
  prohibitAttributes(value, valuePath, ['nullFlavor', 'updateMode'], problems);
  VALUE_CHECKS[name](value, valuePath, problems, interaction);
}

type ValueCheck = (value: XmlElement, path: string, problems: Problems, interaction: Interaction) => void;

const VALUE_CHECKS: Readonly<Record<ParameterName, ValueCheck>> = {
  DateOfBirth(value, path, problems) {
    const date = value.attrs.get('value');
    if (date === undefined) problems.add(`${path}/@value`, 'is required');
    else if (!TS_PATTERN.test(date)) problems.add(`${path}/@value`, 'is not an HL7 timestamp');
    // OpenTest expects SMSP-0001 for a birth date with hours and minutes (SPEC §4.4, [OTD]).
    else if (!DATE_OF_BIRTH.test(date)) problems.add(`${path}/@value`, 'must be YYYY, YYYYMM or YYYYMMDD');
  },
  Gender(value, path, problems) {
    if (!SEX_CODES.has(value.attrs.get('code') ?? '')) problems.add(`${path}/@code`, 'must be one of 0, 1, 2, 9');
    requireAttribute(value, path, 'codeSystem', OID.sexCodeSystem, problems);
  },
  LocalIdentifier(value, path, problems) {
    // II.NHS.IdentifierType3: any OID root, extension required.
    if (!OID_PATTERN.test(value.attrs.get('root') ?? '')) problems.add(`${path}/@root`, 'must be an OID');
    if (!value.attrs.get('extension')) problems.add(`${path}/@extension`, 'is required');
  },
  NHSNumber(value, path, problems) {
    // II.NHS.IdentifierType1: fixed root; a non-ten-digit extension is PDS's DEMOG-0042, not a schema error.
    requireAttribute(value, path, 'root', OID.nhsNumber, problems);
    if (!value.attrs.get('extension')) problems.add(`${path}/@extension`, 'is required');
  },
  Name(value, path, problems, interaction) {
    // Only one given name, then the family name; no prefix (SPEC §4.2).
    checkSequence(value, path, [{ name: 'given', min: 0, max: 1 }, { name: 'family', min: 0, max: 1 }], problems, false);
    if (NAME_USE_PROHIBITED.has(interaction) && value.attrs.has('use')) problems.add(`${path}/@use`, 'is prohibited for this interaction');
  },
  Postcode(value, path, problems) {
    // AD.NHS.AddressType1: exactly one postalCode and nothing else.
    checkSequence(value, path, [{ name: 'postalCode', min: 1, max: 1 }], problems, false);
    if (childElement(value, 'postalCode', NS.hl7)?.text === '') problems.add(`${path}/postalCode`, 'must not be empty');
    if (value.attrs.has('use')) problems.add(`${path}/@use`, 'is prohibited');
  },
};

/**
 * Checks that `element`'s children follow `slots` in order, within their cardinalities, in the HL7
 * namespace, with nothing else (after the optional infrastructure elements when `infrastructure`).
 */
function checkSequence(element: XmlElement, path: string, slots: readonly Slot[], problems: Problems, infrastructure = true): void {
  const sequence = infrastructure ? [...INFRASTRUCTURE, ...slots] : slots;
  const counts = new Array<number>(sequence.length).fill(0);
  let position = 0;
  for (const child of element.children) {
    // Built only for a problem: a well-formed payload (nearly every request) needs no path strings.
    const childPath = () => `${path}/${child.name}`;
    if (child.ns !== NS.hl7) {
      problems.add(childPath(), 'is not in the HL7 V3 namespace');
      continue;
    }
    const index = sequence.findIndex((slot, i) => i >= position && slot.name === child.name);
    if (index < 0) {
      const earlier = sequence.findIndex((slot) => slot.name === child.name);
      problems.add(childPath(), earlier < 0 ? 'is not allowed here' : 'is out of schema order');
      // Counted where it belongs, so an element sent in the wrong place is not also called missing.
      if (earlier >= 0) counts[earlier] = (counts[earlier] ?? 0) + 1;
      continue;
    }
    position = index;
    counts[index] = (counts[index] ?? 0) + 1;
    if ((counts[index] ?? 0) > sequence[index]!.max) problems.add(childPath(), `may occur at most ${sequence[index]!.max} time(s)`);
  }
  sequence.forEach((slot, i) => {
    if ((counts[i] ?? 0) < slot.min) problems.add(`${path}/${slot.name}`, 'is required');
  });
}

function requireAttribute(element: XmlElement, path: string, name: string, fixed: string, problems: Problems): void {
  const value = element.attrs.get(name);
  if (value === undefined) problems.add(`${path}/@${name}`, 'is required');
  else if (value !== fixed) problems.add(`${path}/@${name}`, `must be the fixed value ${fixed}`);
}

function prohibitAttributes(element: XmlElement, path: string, names: readonly string[], problems: Problems): void {
  for (const name of names) if (element.attrs.has(name)) problems.add(`${path}/@${name}`, 'is prohibited');
}
