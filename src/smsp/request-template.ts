/**
 * Compiled request templates: xmlbuilder2 builds each request shape once, with a placeholder in
 * place of every variable value; each request is then the template's text with the values,
 * XML-escaped, put back. Same bytes as building the document every time (the schema and
 * round-trip tests in test/smsp/build-request.test.ts run through this path), at a fraction of the
 * CPU: a batch builds one request per row, and building a DOM per row was a fifth of the client's
 * CPU in profiles.
 *
 * A shape is the interaction plus which optional parts are present (query fields, senderAddress):
 * at most a few dozen per interaction, so the cache stays small.
 */

import type { PatientQuery } from '../domain/demographics.js';
import { appendQueryPayload } from './hl7-query.js';
import { INTERACTION_SPECS, OID, type Interaction } from './interactions.js';
import { hasValue } from './query-parameters.js';
import { buildSoapEnvelope, timestampTexts } from './soap-envelope.js';
import type { EnvelopeContext } from './types.js';

const QUERY_FIELDS = ['nhsNumber', 'familyName', 'givenName', 'dateOfBirth', 'sex', 'postcode', 'localId'] as const satisfies readonly (keyof PatientQuery)[];

/** Every variable value of a request, by name. */
type Slot =
  | (typeof QUERY_FIELDS)[number]
  | 'messageId' | 'trackingId' | 'payloadId' | 'timestampId' | 'created' | 'expires'
  | 'to' | 'from' | 'username' | 'auditType' | 'auditUri' | 'senderAddress' | 'localIdentifierRoot';

// Private-use characters: legal XML, never escaped by the serialiser, never in our fixed markup.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const PLACEHOLDER = /\uE000([A-Za-z]+)\uE001/g;

interface Template {
  /** Fixed text around the slots: parts.length === slots.length + 1. */
  parts: string[];
  slots: Slot[];
  /** Whether each slot sits in an attribute value (else in text content). */
  inAttribute: boolean[];
}

const templates = new Map<string, Template>();

function placeholder(slot: Slot): string {
  return `${OPEN}${slot}${CLOSE}`;
}

function shapeKey(interaction: Interaction, query: PatientQuery, ctx: EnvelopeContext): string {
  let key = interaction;
  for (const field of QUERY_FIELDS) key += hasValue(query[field]) ? '1' : '0';
  return key + (ctx.senderAddress === undefined ? '0' : '1');
}

function compile(interaction: Interaction, query: PatientQuery, ctx: EnvelopeContext): Template {
  // The builder only writes these values into the document, so a placeholder stands in for any field.
  const placeholderQuery = Object.fromEntries(
    QUERY_FIELDS.filter((field) => hasValue(query[field])).map((field) => [field, placeholder(field)]),
  ) as unknown as PatientQuery;
  const placeholderCtx: EnvelopeContext = {
    ...ctx,
    messageId: placeholder('messageId'),
    trackingId: placeholder('trackingId'),
    payloadId: placeholder('payloadId'),
    timestampId: placeholder('timestampId'),
    to: placeholder('to'),
    from: placeholder('from'),
    username: placeholder('username'),
    auditIdentity: { type: placeholder('auditType'), uri: placeholder('auditUri') },
    senderAddress: ctx.senderAddress === undefined ? undefined : placeholder('senderAddress'),
  };
  const spec = INTERACTION_SPECS[interaction];
  const text = buildSoapEnvelope(placeholderCtx, {
    service: spec.service,
    profileId: spec.requestProfileId,
    created: placeholder('created'),
    expires: placeholder('expires'),
    writePayload: (payload) =>
      appendQueryPayload(payload, interaction, placeholderQuery, {
        payloadId: placeholder('payloadId'),
        localIdentifierRoot: placeholder('localIdentifierRoot'),
      }),
  });
  const parts: string[] = [];
  const slots: Slot[] = [];
  const inAttribute: boolean[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, match.index));
    slots.push(match[1] as Slot);
    // Inside a tag (an attribute value) when the nearest '<' before it is nearer than the nearest '>';
    // our fixed markup has no comments or CDATA to confuse this.
    inAttribute.push(text.lastIndexOf('<', match.index) > text.lastIndexOf('>', match.index));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return { parts, slots, inAttribute };
}

// What the serialiser's `wellFormed` check refuses: characters XML 1.0 cannot carry.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Escaped as xmlbuilder2 escapes: & < > in text, and " too in (double-quoted) attribute values. */
function escapeXml(value: string, inAttribute: boolean): string {
  if (NOT_XML_CHAR.test(value)) throw new TypeError('a request value holds a character XML cannot carry');
  return value.replace(inAttribute ? /[&<>"]/g : /[&<>]/g, (c) => ESCAPES[c]!);
}

/** The request document for an already-checked query. */
export function renderRequest(interaction: Interaction, query: PatientQuery, ctx: EnvelopeContext): string {
  const key = shapeKey(interaction, query, ctx);
  let template = templates.get(key);
  if (!template) {
    template = compile(interaction, query, ctx);
    templates.set(key, template);
  }
  const { created, expires } = timestampTexts(ctx);
  const values: Record<Slot, string | undefined> = {
    nhsNumber: query.nhsNumber,
    familyName: query.familyName,
    givenName: query.givenName,
    dateOfBirth: query.dateOfBirth,
    sex: query.sex,
    postcode: query.postcode,
    localId: query.localId,
    messageId: ctx.messageId,
    trackingId: ctx.trackingId,
    payloadId: ctx.payloadId,
    timestampId: ctx.timestampId,
    created,
    expires,
    to: ctx.to,
    from: ctx.from,
    username: ctx.username,
    auditType: ctx.auditIdentity.type,
    auditUri: ctx.auditIdentity.uri,
    senderAddress: ctx.senderAddress,
    localIdentifierRoot: ctx.localIdentifierRoot ?? OID.localIdentifier,
  };
  let out = template.parts[0]!;
  for (let i = 0; i < template.slots.length; i++) {
    out += escapeXml(values[template.slots[i]!] ?? '', template.inAttribute[i]!) + template.parts[i + 1]!;
  }
  return out;
}
