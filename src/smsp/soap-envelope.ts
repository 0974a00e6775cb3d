/**
 * The SOAP 1.1 envelope around an SMSP request (SPEC §2, §3): WS-Addressing and WS-Security
 * headers, then the ITK DistributionEnvelope with one manifest item and one inline payload.
 */

import { create } from 'xmlbuilder2';
import { NS } from './interactions.js';
import type { EnvelopeContext } from './types.js';
import { literal, type XMLBuilder } from './xml-text.js';

const XMLNS = 'http://www.w3.org/2000/xmlns/';

export interface EnvelopeContent {
  /** SOAPAction = wsa:Action = DE header/@service (TKW checks they match, SPEC §2.1). */
  service: string;
  /** manifestitem/@profileid: optional in the XSD but "Profileid must be provided" (SPEC §3.1). */
  profileId: string;
  /** wsu:Created and wsu:Expires as written (see `timestampTexts`). */
  created: string;
  expires: string;
  /** Writes the HL7 payload element into itk:payload. */
  writePayload: (payload: XMLBuilder) => void;
}

/** xs:dateTime in UTC at second precision with `Z`, as in every NHS sample (SPEC §2.1). */
function wsuDateTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** wsu:Created (now, to the second) and wsu:Expires (Created + the window, NHS: 10 minutes). */
export function timestampTexts(ctx: Pick<EnvelopeContext, 'created' | 'expiresInSeconds'>): { created: string; expires: string } {
  const created = Math.floor(ctx.created.getTime() / 1000);
  return { created: wsuDateTime(created), expires: wsuDateTime(created + ctx.expiresInSeconds) };
}

// Every context value goes through `literal` (xml-text.ts): xmlbuilder2 would otherwise pass an
// entity-like `&...;` through unescaped.
function appendHeader(envelope: XMLBuilder, ctx: EnvelopeContext, content: EnvelopeContent): void {
  const { service } = content;
  const header = envelope.ele(NS.soap, 'soap:Header');
  header.ele(NS.wsa, 'wsa:MessageID').txt(literal(ctx.messageId));
  header.ele(NS.wsa, 'wsa:Action').txt(service);
  header.ele(NS.wsa, 'wsa:To').txt(literal(ctx.to));
  header.ele(NS.wsa, 'wsa:From').ele(NS.wsa, 'wsa:Address').txt(literal(ctx.from));

  // No signature, password or mustUnderstand: none appears in any NHS sample (SPEC §2.1).
  const security = header.ele(NS.wsse, 'wsse:Security');
  const timestamp = security.ele(NS.wsu, 'wsu:Timestamp').att(NS.wsu, 'wsu:Id', literal(ctx.timestampId));
  timestamp.ele(NS.wsu, 'wsu:Created').txt(literal(content.created));
  timestamp.ele(NS.wsu, 'wsu:Expires').txt(literal(content.expires));
  security.ele(NS.wsse, 'wsse:UsernameToken').ele(NS.wsse, 'wsse:Username').txt(literal(ctx.username));
}

function appendDistributionEnvelope(body: XMLBuilder, ctx: EnvelopeContext, content: EnvelopeContent): void {
  // payload/@id is an xs:ID (an NCName, which cannot start with a digit), hence `uuid_` (SPEC §3.2);
  // the manifest item points at it by the same id.
  const itemId = literal(`uuid_${ctx.payloadId}`);
  const de = body.ele(NS.itk, 'itk:DistributionEnvelope');
  // Child order is fixed by the DE schema: auditIdentity, manifest, senderAddress (SPEC §3.1).
  const header = de.ele(NS.itk, 'itk:header').att('service', content.service).att('trackingid', literal(ctx.trackingId));
  header
    .ele(NS.itk, 'itk:auditIdentity')
    .ele(NS.itk, 'itk:id')
    .att('type', literal(ctx.auditIdentity.type))
    .att('uri', literal(ctx.auditIdentity.uri));
  header
    .ele(NS.itk, 'itk:manifest')
    .att('count', '1')
    .ele(NS.itk, 'itk:manifestitem')
    .att('id', itemId)
    .att('mimetype', 'text/xml')
    .att('profileid', content.profileId)
    .att('base64', 'false')
    .att('compressed', 'false')
    .att('encrypted', 'false');
  if (ctx.senderAddress !== undefined) header.ele(NS.itk, 'itk:senderAddress').att('uri', literal(ctx.senderAddress));

  // The HL7 payload goes inline as XML, not base64 or escaped text (SPEC §3.2).
  const payload = de.ele(NS.itk, 'itk:payloads').att('count', '1').ele(NS.itk, 'itk:payload').att('id', itemId);
  content.writePayload(payload);
}

/**
 * The whole request document as UTF-8 text. `wellFormed: true` makes the serialiser throw rather
 * than emit characters XML cannot carry (reference/ecosystem.md §5.1); the local checks reject
 * such values before this is reached.
 */
export function buildSoapEnvelope(ctx: EnvelopeContext, content: EnvelopeContent): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  // soap, wsa and itk declared once on the root, as in the NHS example request (SPEC §3.3).
  const envelope = doc
    .ele(NS.soap, 'soap:Envelope')
    .att(XMLNS, 'xmlns:wsa', NS.wsa)
    .att(XMLNS, 'xmlns:itk', NS.itk);
  appendHeader(envelope, ctx, content);
  appendDistributionEnvelope(envelope.ele(NS.soap, 'soap:Body'), ctx, content);
  return doc.end({ wellFormed: true });
}
