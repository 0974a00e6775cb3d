import { SaxesParser } from 'saxes';

/**
 * A namespace-resolved element tree for the simulator's request reader. Clients choose their own
 * prefixes (`soap` / `SOAP-ENV`, `itk` / `toolkit`, a default namespace for HL7; SPEC §10), so
 * elements are matched by namespace URI and local name, never by prefix. Every value stays a string:
 * NHS numbers, dates and ids keep their leading zeros.
 *
 * Read with saxes, a conformant non-validating XML 1.0 parser that checks well-formedness and
 * resolves namespaces in one pass. The simulator shares the machine with the client it serves, and
 * a validating pass then a tree pass through fast-xml-parser, with namespaces resolved by hand,
 * cost it ten times more per request. (The client keeps fast-xml-parser: reading the simulator with
 * a different parser also keeps the two from sharing a blind spot.)
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

const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

/** Parses `xml` into its root element. Throws `XmlReadError` for a DOCTYPE or malformed XML. */
export function parseXmlTree(xml: string): XmlElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    throw new XmlReadError('doctype', 'the document declares a DOCTYPE; SOAP 1.1 forbids one');
  }
  // Only the predefined entities and character references are known: DOCTYPEs are refused above,
  // so nothing can declare one (XXE, billion laughs), and any other reference is an error.
  const parser = new SaxesParser({ xmlns: true, position: true });
  /** The elements open at this point of the document, each with its own text so far. */
  const open: Array<{ element: XmlElement; text: string[] }> = [];
  let root: XmlElement | undefined;
  let closing = false;
  parser.on('error', () => {
    if (closing && root === undefined && open.length === 0) throw new XmlReadError('no-root', 'the document has no root element');
    // Position only: saxes's message can quote document text (patient data).
    throw new XmlReadError('not-well-formed', `the document is not well-formed XML (at ${parser.line}:${parser.column})`);
  });
  parser.on('opentag', (tag) => {
    const attrs = new Map<string, string>();
    for (const attribute of Object.values(tag.attributes)) {
      if (attribute.uri !== XMLNS_NAMESPACE) attrs.set(attribute.local, attribute.value);
    }
    const element: XmlElement = { name: tag.local, ns: tag.uri === '' ? undefined : tag.uri, attrs, children: [], text: '' };
    if (open.length === 0) root = element;
    else open[open.length - 1]!.element.children.push(element);
    open.push({ element, text: [] });
  });
  const addText = (text: string) => open[open.length - 1]?.text.push(text);
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    const { element, text } = open.pop()!;
    element.text = text.join('').trim();
  });
  // A byte-order mark may survive decoding; it is not markup.
  parser.write(xml.replace(/^\uFEFF/, ''));
  closing = true;
  parser.close();
  if (root === undefined) throw new XmlReadError('no-root', 'the document has no root element');
  return root;
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
