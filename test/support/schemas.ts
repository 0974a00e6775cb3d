/**
 * XSD validation of generated XML against the public SMSP schemas in `<shared>/smsp/schemas/`
 * (shared/README.md): the message schema goes in as `schema`, every other `.xsd` as `preload`,
 * each named by its path relative to `smsp/schemas/` so the schemas' relative includes resolve.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { create } from 'xmlbuilder2';
import { validateXML, type XMLFileInfo } from 'xmllint-wasm';
import { sharedDir } from './shared-dir.js';

export interface SchemaValidation {
  valid: boolean;
  errors: string[];
}

let schemaFiles: ReadonlyMap<string, XMLFileInfo> | undefined;

function schemasRoot(): string {
  return join(sharedDir(), 'smsp', 'schemas');
}

/** Every `.xsd` under smsp/schemas/, keyed by its `/`-separated relative path; read once per process. */
function loadSchemaFiles(): ReadonlyMap<string, XMLFileInfo> {
  if (schemaFiles === undefined) {
    const root = schemasRoot();
    const files = new Map<string, XMLFileInfo>();
    for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.xsd')) continue;
      const absolute = join(entry.parentPath, entry.name);
      const fileName = relative(root, absolute).split(sep).join('/');
      files.set(fileName, { fileName, contents: readFileSync(absolute, 'utf8') });
    }
    schemaFiles = files;
  }
  return schemaFiles;
}

/**
 * Validates `xml` against the schema at `schema` (relative to smsp/schemas/, e.g.
 * `'Schemas/QUPA_MT000002GB01.xsd'`). Errors are xmllint's messages without file names.
 *
 * A list of documents is validated in one xmllint run (each run re-reads every schema, which costs
 * far more than validating one small document): `valid` only if all are, and each error keeps the
 * file name `document-<index>.xml` of the document it is about.
 */
export async function validateXml(xml: string | readonly string[], schema: string): Promise<SchemaValidation> {
  const files = loadSchemaFiles();
  const main = files.get(schema);
  if (main === undefined) throw new Error(`no schema ${schema} under ${schemasRoot()}`);
  const batch = typeof xml !== 'string';
  const documents = (batch ? xml : [xml]).map((contents, index) => ({ fileName: `document-${index}.xml`, contents }));
  const result = await validateXML({
    xml: documents,
    schema: main,
    preload: [...files.values()].filter((file) => file !== main),
  });
  return { valid: result.valid, errors: result.errors.map((error) => (batch ? error.rawMessage : error.message)) };
}

/** The slice of the DOM that xmlbuilder2 parses into and that extractElement touches. */
interface DomNode {
  nodeType: number;
  localName?: string | null;
  data?: string;
  attributes?: ArrayLike<{ namespaceURI: string | null; value: string }>;
  childNodes: ArrayLike<DomNode>;
}

const TEXT_NODE = 3;
const ELEMENT_NODE = 1;
const XMLNS = 'http://www.w3.org/2000/xmlns/';

/**
 * xmlbuilder2 serialises an `&` that starts something entity-like (`&amp;`, `&copy;`) unescaped
 * (src/smsp/xml-text.ts explains). Text parsed from `&amp;copy;` would come back out as `&copy;`,
 * an undeclared entity, so escape every `&` in the subtree's text and attributes first, as the
 * request builder does.
 */
function protectAmpersands(node: DomNode): void {
  if (node.nodeType === TEXT_NODE && node.data !== undefined) node.data = node.data.replaceAll('&', '&amp;');
  if (node.nodeType === ELEMENT_NODE && node.attributes !== undefined) {
    for (const attribute of Array.from(node.attributes)) {
      if (attribute.namespaceURI !== XMLNS) attribute.value = attribute.value.replaceAll('&', '&amp;');
    }
  }
  for (const child of Array.from(node.childNodes)) protectAmpersands(child);
}

/**
 * The first element named `localName` (any namespace) as a standalone document. The serialiser
 * declares every namespace the subtree uses on its root, so an ITK DistributionEnvelope lifted out
 * of its SOAP envelope, or an HL7 payload lifted out of the DE, validates on its own.
 */
export function extractElement(xml: string, localName: string): string {
  const found = create(xml).find(
    (candidate) => {
      const node = candidate.node as unknown as DomNode;
      return node.nodeType === ELEMENT_NODE && node.localName === localName;
    },
    false,
    true,
  );
  if (found === undefined) throw new Error(`no <${localName}> element in the document`);
  protectAmpersands(found.node as unknown as DomNode);
  return create({ version: '1.0', encoding: 'UTF-8' }).import(found).end({ wellFormed: true });
}
