/**
 * SMSP answers for the answer-belongs-to-its-request tests (ARCHITECTURE property 8): honest ones
 * written by the simulator's response writer (the NHS response shape, SPEC §2.3, §5), and the
 * tamperings a broken or hostile provider could send. Test-only; each tampering is a plain string
 * edit of an honest answer, so what differs from an honest answer is exactly one thing.
 */

import type { RecordedRequest } from './mtls-server.js';
import { newUuid } from '../../src/smsp/ids.js';
import { OID } from '../../src/smsp/interactions.js';
import type { PatientQuery } from '../../src/domain/demographics.js';
import type { Interaction } from '../../src/domain/interaction.js';
import { readRequest } from '../../src/simulator/request-reader.js';
import { writeResponse, type ResponseContent, type ResponseIds } from '../../src/simulator/response-writer.js';

/** What the provider read from a request: what it asks and the ids an answer may refer to. */
export interface SentRequest {
  interaction: Interaction;
  query: PatientQuery;
  messageId: string;
  /** HL7 id/@root of the request payload. */
  payloadId: string;
  localIdentifierRoot?: string;
}

/** Reads a recorded request with the simulator's request reader (independent of the client's builder). */
export function readSent(request: RecordedRequest): SentRequest {
  const view = readRequest(request.body, typeof request.headers.soapaction === 'string' ? request.headers.soapaction : undefined);
  if (view.interaction === undefined || view.payload === undefined || view.header.messageId === undefined || view.payload.id === undefined) {
    throw new Error('test provider: the request could not be read');
  }
  return {
    interaction: view.interaction,
    query: view.payload.query,
    messageId: view.header.messageId,
    payloadId: view.payload.id,
    ...(view.payload.localIdentifierRoot === undefined ? {} : { localIdentifierRoot: view.payload.localIdentifierRoot }),
  };
}

export function freshResponseIds(): ResponseIds {
  return { messageId: newUuid(), trackingId: newUuid(), payloadId: newUuid() };
}

/**
 * The answer an honest provider gives `sent` with `responseCode` about the person `nhsNumber`
 * (by default the number asked about), echoing the local id, with fresh ids.
 */
export function honestAnswer(sent: SentRequest, fields: Partial<ResponseContent> = {}, ids: ResponseIds = freshResponseIds()): string {
  const { query } = sent;
  const content: ResponseContent = {
    interaction: sent.interaction,
    responseCode: 'SMSP-0000',
    nhsNumber: query.nhsNumber,
    ...(sent.interaction === 'verifyNHSNumber' ? { verified: true } : {}),
    ...(query.localId !== undefined && sent.localIdentifierRoot !== undefined && sent.interaction !== 'verifyNHSNumber'
      ? { localIdentifier: { root: sent.localIdentifierRoot, extension: query.localId } }
      : {}),
    ...fields,
  };
  return writeResponse(content, ids);
}

/** A details patient consistent with `query` (same birth date and sex), numbered `nhsNumber`. */
export function patientFor(query: PatientQuery, nhsNumber: string): NonNullable<ResponseContent['patient']> {
  return {
    nhsNumber,
    givenNames: query.givenName === undefined ? [] : [query.givenName],
    ...(query.familyName === undefined ? {} : { familyName: query.familyName }),
    ...(query.sex === undefined ? {} : { sex: query.sex }),
    dateOfBirth: query.dateOfBirth.padEnd(8, '01'),
    addresses: [{ use: 'H', lines: ['1 SYNTHETIC STREET', '', '', 'LEEDS', ''], postcode: 'LS1 6AE' }],
    telecoms: [],
  };
}

function insertAfter(body: string, marker: string, text: string): string {
  const at = body.indexOf(marker);
  if (at < 0) throw new Error(`test provider: ${marker} not found in the answer`);
  return body.slice(0, at + marker.length) + text + body.slice(at + marker.length);
}

/** The tamperings, each one change to an honest answer. */
export const tamper = {
  /** Adds a wsa:RelatesTo to the SOAP header. */
  relatesTo: (body: string, id: string) => insertAfter(body, '</wsa:Action>', `<wsa:RelatesTo>${id}</wsa:RelatesTo>`),
  /** Adds an HL7 acknowledgement naming `id` after the response code. */
  acknowledgement: (body: string, id: string) =>
    insertAfter(body, `codeSystem="${OID.responseCodeSystem}"/>`, `<acknowledgement typeCode="AA"><messageRef><id root="${id}"/></messageRef></acknowledgement>`),
  /** Adds another NHS number id to the (first) patient, after the honest one. */
  extraNhsNumber: (body: string, nhsNumber: string) => {
    const at = body.indexOf('</patient>');
    if (at < 0) throw new Error('test provider: no patient in the answer');
    return `${body.slice(0, at)}<id root="${OID.nhsNumber}" extension="${nhsNumber}"/>${body.slice(at)}`;
  },
  /** Replaces the answer's own wsa:MessageID. */
  messageId: (body: string, id: string) => body.replace(/<wsa:MessageID>[^<]*<\/wsa:MessageID>/, `<wsa:MessageID>${id}</wsa:MessageID>`),
};
