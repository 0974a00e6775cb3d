/**
 * Helpers for driving the SMSP simulator over real mutual TLS WITHOUT the project's own client: raw
 * HTTPS posts and hand-built requests taken from the NHS-published getNHSNumber example
 * (sample-nhsconnect-spine-smsp-getNHSNumber-request-opentest-example.xml) with fresh ids and
 * timestamp. The wire names are spelled out here from SPEC §1/§4.1 on purpose, not read from
 * src/smsp/interactions.ts, so a mistake in that shared table cannot hide on both sides.
 */

import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Interaction } from '../../src/domain/interaction.js';
import type { PatientQuery } from '../../src/domain/demographics.js';
import type { PdsDirectory, SimulatedAnswer } from '../../src/simulator/directory.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { readSample } from './samples.js';

export interface TestSimulator extends RunningSimulator {
  /** A keep-alive agent holding the simulator's client certificate. */
  agent: https.Agent;
}

/** Starts a simulator on 127.0.0.1:0 with a small population (or the given directory). */
export async function startTestSimulator(options: SimulatorOptions = {}): Promise<TestSimulator> {
  const simulator = await startSimulator({ seed: 'test', size: 1000, faultSeed: 'test', ...options });
  const agent = new https.Agent({ ...simulator.clientTls, keepAlive: true, maxSockets: 64 });
  return {
    ...simulator,
    agent,
    close: async () => {
      agent.destroy();
      await simulator.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawPostOptions {
  /** The SOAPAction header; `null` sends none. Default: the service named in the body's wsa:Action. */
  soapAction?: string | null;
  contentType?: string;
  path?: string;
  method?: string;
  agent?: https.Agent;
}

/** One HTTPS request to the simulator with its client certificate; resolves with whatever came back. */
export function rawPost(simulator: TestSimulator, body: string, options: RawPostOptions = {}): Promise<RawResponse> {
  const soapAction = options.soapAction === undefined ? /<wsa:Action>([^<]*)<\/wsa:Action>/.exec(body)?.[1] : options.soapAction;
  const headers: Record<string, string | number> = {
    'Content-Type': options.contentType ?? 'text/xml; charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
  };
  if (soapAction !== null && soapAction !== undefined) headers.SOAPAction = soapAction;
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(options.path ?? '/smsp/pds', simulator.url),
      { method: options.method ?? 'POST', agent: options.agent ?? simulator.agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** GET on the simulator (metrics, status). */
export function rawGet(simulator: TestSimulator, path: string): Promise<RawResponse> {
  return rawPost(simulator, '', { path, method: 'GET', soapAction: null });
}

export function upperUuid(): string {
  return randomUUID().toUpperCase();
}

/** wsu:Created / wsu:Expires form of the NHS examples: UTC, second precision. */
export function wsuTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface RequestIds {
  messageId: string;
  timestampId: string;
  trackingId: string;
  /** The ITK payload id is `uuid_` + this. */
  payloadId: string;
  hl7Id: string;
}

export function freshIds(): RequestIds {
  return { messageId: upperUuid(), timestampId: upperUuid(), trackingId: upperUuid(), payloadId: upperUuid(), hl7Id: upperUuid() };
}

// The ids and times in the NHS sample, replaced by fresh ones.
const SAMPLE = {
  messageId: 'B72F7785-534C-11E6-ADCA-29C651A3BE6F',
  timestampId: 'D6CD5232-14CF-11DF-9423-1F9A910D4703',
  trackingId: 'B72F9E96-534C-11E6-ADCA-29C651A3BE6F',
  payloadId: '808A9678-49B2-498B-AD75-1D7A0F1262D7',
  hl7Id: '3E25ACE2-23F8-4A37-B446-6A37F31BF77C',
  created: '2016-07-27T11:10:23Z',
  expires: '2020-07-27T11:20:23Z',
} as const;

/**
 * The NHS getNHSNumber example request (LILITH LAWALI, an OpenTest patient) with fresh upper-case
 * ids, Created = now and Expires = now + 10 minutes. Valid as it stands.
 */
export function nhsSampleRequest(ids: RequestIds = freshIds(), now = new Date()): string {
  return readSample('sample-nhsconnect-spine-smsp-getNHSNumber-request-opentest-example.xml')
    .replaceAll(SAMPLE.messageId, ids.messageId)
    .replaceAll(SAMPLE.timestampId, ids.timestampId)
    .replaceAll(SAMPLE.trackingId, ids.trackingId)
    .replaceAll(SAMPLE.payloadId, ids.payloadId)
    .replaceAll(SAMPLE.hl7Id, ids.hl7Id)
    .replace(SAMPLE.created, wsuTime(now))
    .replace(SAMPLE.expires, wsuTime(new Date(now.getTime() + 600_000)));
}

/** Wire names per interaction, from SPEC §1 and §4.1 (note getPatientDetails' root/code quirk). */
const WIRE: Readonly<Record<Interaction, { root: string; code: string }>> = {
  verifyNHSNumber: { root: 'verifyNHSNumberRequest-v1-0', code: 'verifyNHSNumberRequest-v1-0' },
  getNHSNumber: { root: 'getNHSNumberRequest-v1-0', code: 'getNHSNumberRequest-v1-0' },
  getPatientDetailsByNHSNumber: { root: 'getPatientDetailsByNHSNumberRequest-v1-0', code: 'getPatientDetailsByNHSNumberRequest-v1-0' },
  getPatientDetailsBySearch: { root: 'getPatientDetailsBySearchRequest-v1-0', code: 'getPatientDetailsBySearchRequest-v1-0' },
  getPatientDetails: { root: 'getPatientDetails-v1-0', code: 'getPatientDetailsRequest-v1-0' },
};

/** Which parameters each request schema takes (SPEC §4.3), in schema (alphabetical) order. */
const ACCEPTS: Readonly<Record<Interaction, ReadonlySet<string>>> = {
  verifyNHSNumber: new Set(['DateOfBirth', 'NHSNumber', 'Name']),
  getNHSNumber: new Set(['DateOfBirth', 'Gender', 'LocalIdentifier', 'Name', 'Postcode']),
  getPatientDetailsByNHSNumber: new Set(['DateOfBirth', 'LocalIdentifier', 'NHSNumber', 'Name']),
  getPatientDetailsBySearch: new Set(['DateOfBirth', 'Gender', 'LocalIdentifier', 'Name', 'Postcode']),
  getPatientDetails: new Set(['DateOfBirth', 'Gender', 'LocalIdentifier', 'NHSNumber', 'Name', 'Postcode']),
};

export const LOCAL_ID_ROOT = '2.16.840.1.113883.2.1.3.2.4.18.24';

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The queryEvent for `query`, hand-written in schema order. */
export function queryEventXml(interaction: Interaction, query: PatientQuery): string {
  const parameter = (name: string, value: string) =>
    ACCEPTS[interaction].has(name) ? `<Person.${name}>${value}<semanticsText>Person.${name}</semanticsText></Person.${name}>` : '';
  const name =
    query.givenName !== undefined || query.familyName !== undefined
      ? `<value>${query.givenName === undefined ? '' : `<given>${escapeXml(query.givenName)}</given>`}${
          query.familyName === undefined ? '' : `<family>${escapeXml(query.familyName)}</family>`
        }</value>`
      : undefined;
  return [
    '<queryEvent>',
    parameter('DateOfBirth', `<value value="${escapeXml(query.dateOfBirth)}"/>`),
    query.sex === undefined ? '' : parameter('Gender', `<value code="${query.sex}" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.25"/>`),
    query.localId === undefined ? '' : parameter('LocalIdentifier', `<value root="${LOCAL_ID_ROOT}" extension="${escapeXml(query.localId)}"/>`),
    query.nhsNumber === undefined ? '' : parameter('NHSNumber', `<value root="2.16.840.1.113883.2.1.4.1" extension="${escapeXml(query.nhsNumber)}"/>`),
    name === undefined ? '' : parameter('Name', name),
    query.postcode === undefined ? '' : parameter('Postcode', `<value><postalCode>${escapeXml(query.postcode)}</postalCode></value>`),
    '</queryEvent>',
  ].join('');
}

/** A valid raw request for any interaction: the NHS sample with its service, payload and query swapped. */
export function rawRequest(interaction: Interaction, query: PatientQuery, ids: RequestIds = freshIds(), now = new Date()): string {
  const { root, code } = WIRE[interaction];
  return nhsSampleRequest(ids, now)
    .replaceAll('urn:nhs-itk:services:201005:getNHSNumber-v1-0', `urn:nhs-itk:services:201005:${interaction}-v1-0`)
    .replace('urn:nhs-en:profile:getNHSNumberRequest-v1-0', `urn:nhs-en:profile:${code}`)
    .replace('code="getNHSNumberRequest-v1-0"', `code="${code}"`)
    .replace('<getNHSNumberRequest-v1-0 ', `<${root} `)
    .replace('</getNHSNumberRequest-v1-0>', `</${root}>`)
    .replace(/<queryEvent>[\s\S]*<\/queryEvent>/, queryEventXml(interaction, query));
}

/** First match of `pattern` in a response body (group 1), e.g. the response code. */
export function match(body: string, pattern: RegExp): string | undefined {
  return pattern.exec(body)?.[1];
}

/** value/@code of an SMSP response payload. */
export function responseCodeOf(body: string): string | undefined {
  return match(body, /<value code="([^"]+)" codeSystem="2\.16\.840\.1\.113883\.2\.1\.3\.2\.4\.17\.285"/);
}

/** ToolkitErrorInfo/ErrorCode of a SOAP fault. */
export function itkErrorCodeOf(body: string): string | undefined {
  return match(body, /<itk:ErrorCode[^>]*>([^<]+)<\/itk:ErrorCode>/);
}

/** A directory answering from a fixed function of the query: scenario tests pick each code. */
export function fakeDirectory(answer: (interaction: Interaction, query: PatientQuery) => SimulatedAnswer): PdsDirectory {
  return { size: 1, answer };
}

/**
 * Settings that point a pds-trace process at a test simulator (which must have written its
 * certificates to a `certDir`), with its data folder.
 */
export function smspClientEnv(simulator: RunningSimulator, dataDir: string): Record<string, string> {
  return {
    PDS_TRACE_DATA_DIR: dataDir,
    SMSP_URL: simulator.url,
    SMSP_ASID: '999000000001',
    SMSP_TLS_CERT: simulator.clientTlsPaths!.cert,
    SMSP_TLS_KEY: simulator.clientTlsPaths!.key,
    SMSP_TLS_CA: simulator.clientTlsPaths!.ca,
  };
}
