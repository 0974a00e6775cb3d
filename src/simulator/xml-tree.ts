import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * A namespace-resolved element tree for the simulator's request reader. Clients choose their own
 * prefixes (`soap` / `SOAP-ENV`, `itk` / `toolkit`, a default namespace for HL7; SPEC §10), so
 * elements are matched by namespace URI and local name, never by prefix. Every value stays a string:
 * NHS numbers, dates and ids keep their leading zeros.
 */

export interface XmlElement {
  /** Local name, prefix removed. */
  name: string;
  /** Namespace URI the prefix (or default namespace) resolved to; undefined when none is in scope. */
  ns: string | undefined;
  /** Attributes by local name (prefix removed); namespace declarations are not attributes. */
  attrs: ReadonlyMap<string, string>;
  children: XmlElement[];
  /** The element's own text (CDATA included), trimmed; '' when it has none. */
  text: string;
}

/** Why a body could not be read as XML. The message names the problem and position, never content. */
export class XmlReadError extends Error {
  override readonly name = 'XmlReadError';
  constructor(
    readonly problem: 'doctype' | 'not-well-formed' | 'no-root',
    message: string,
  ) {
    super(message);
  }
}

type OrderedNode = Record<string, unknown>;

const ATTRS = ':@';
const TEXT = '#text';

const parser = new XMLParser({
  // Order matters: the HL7 schemas are sequences, and SCHEMA-VALID checks element order.
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Only the predefined XML entities and character references can occur: DOCTYPEs are refused
  // before parsing, so no entity can be declared (XXE, billion laughs).
  processEntities: true,
  // Numeric character references (&#233;) are decoded by this option.
  htmlEntities: true,
  // Callbacks get the parser's path object, not a string built for every element nobody reads.
  jPath: false,
});

/** Parses `xml` into its root element. Throws `XmlReadError` for a DOCTYPE or malformed XML. */
export function parseXmlTree(xml: string): XmlElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    throw new XmlReadError('doctype', 'the document declares a DOCTYPE; SOAP 1.1 forbids one');
  }
  const body = xml.replace(/^\uFEFF/, '');
  const validation = XMLValidator.validate(body);
  if (validation !== true) {
    // Code and position only: the validator's message can quote document text (patient data).
    const { code, line, col } = validation.err;
    throw new XmlReadError('not-well-formed', `the document is not well-formed XML (${code} at ${line}:${col})`);
  }
  const nodes = parser.parse(body) as OrderedNode[];
  const root = nodes.find((node) => elementName(node) !== undefined);
  if (root === undefined) throw new XmlReadError('no-root', 'the document has no root element');
  return toElement(root, new Map());
}

function elementName(node: OrderedNode): string | undefined {
  return Object.keys(node).find((key) => key !== ATTRS && key !== TEXT && !key.startsWith('?') && !key.startsWith('!'));
}

function toElement(node: OrderedNode, inherited: ReadonlyMap<string, string>): XmlElement {
  const qualified = elementName(node) ?? '';
  const rawAttrs = (node[ATTRS] ?? {}) as Record<string, string>;
  const scope = new Map(inherited);
  const attrs = new Map<string, string>();
  for (const [key, value] of Object.entries(rawAttrs)) {
    if (key === 'xmlns') scope.set('', value);
    else if (key.startsWith('xmlns:')) scope.set(key.slice(6), value);
  }
  for (const [key, value] of Object.entries(rawAttrs)) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
    attrs.set(localName(key), String(value));
  }
  const colon = qualified.indexOf(':');
  const prefix = colon < 0 ? '' : qualified.slice(0, colon);
  const children: XmlElement[] = [];
  const texts: string[] = [];
  for (const item of (node[qualified] ?? []) as OrderedNode[]) {
    if (Object.hasOwn(item, TEXT)) texts.push(String(item[TEXT]));
    else if (elementName(item) !== undefined) children.push(toElement(item, scope));
  }
  return { name: localName(qualified), ns: scope.get(prefix), attrs, children, text: texts.join('').trim() };
}

function localName(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon < 0 ? qualified : qualified.slice(colon + 1);
}

/** The first child with this local name (and namespace, when given). */
export function childElement(parent: XmlElement | undefined, name: string, ns?: string): XmlElement | undefined {
  return parent?.children.find((c) => c.name === name && (ns === undefined || c.ns === ns));
}

/** Every child with this local name (and namespace, when given), in document order. */
export function childElements(parent: XmlElement | undefined, name: string, ns?: string): XmlElement[] {
  return parent?.children.filter((c) => c.name === name && (ns === undefined || c.ns === ns)) ?? [];
}

/** The element at the end of a path of local names (namespace-checked when `ns` is given). */
export function elementAt(parent: XmlElement | undefined, names: readonly string[], ns?: string): XmlElement | undefined {
  let current = parent;
  for (const name of names) current = childElement(current, name, ns);
  return current;
}

/** The first descendant (depth first) with this local name. */
export function findDescendant(parent: XmlElement | undefined, name: string, ns?: string): XmlElement | undefined {
  for (const c of parent?.children ?? []) {
    if (c.name === name && (ns === undefined || c.ns === ns)) return c;
    const found = findDescendant(c, name, ns);
    if (found !== undefined) return found;
  }
  return undefined;
}
