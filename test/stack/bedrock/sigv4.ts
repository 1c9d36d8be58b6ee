import { timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { bedrockError, SIGNATURE_MISMATCH } from './errors.ts';
import type { BedrockError } from './errors.ts';
import { Sha256, sha256Hex } from './sha256.ts';

export const SIGNING_SERVICE = 'bedrock';
const MAX_SKEW_MS = 5 * 60 * 1000;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface SigningCredentials {
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A request as it arrived: the path exactly as on the wire (still percent-encoded), the body's exact bytes. */
export interface ReceivedRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

interface AuthorizationParts {
  readonly accessKeyId: string;
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string[];
  readonly signature: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function header(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAuthorization(value: string): AuthorizationParts | BedrockError {
  if (!value.startsWith('AWS4-HMAC-SHA256 ')) {
    return bedrockError('IncompleteSignatureException', `Unsupported authorization type; only AWS4-HMAC-SHA256 is accepted.`);
  }
  const match = AUTHORIZATION.exec(value.trim());
  if (!match) {
    return bedrockError(
      'IncompleteSignatureException',
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${value}`,
    );
  }
  const [, credential = '', signedHeaders = '', signature = ''] = match;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return bedrockError('IncompleteSignatureException', `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'.`);
  }
  const [accessKeyId = '', scopeDate = '', region = '', service = ''] = scope;
  return { accessKeyId, scopeDate, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

function parseAmzDate(value: string): Date | null {
  const match = AMZ_DATE.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? null : date;
}

function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function parseQuery(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const split = pair.indexOf('=');
    const key = safeDecode(split === -1 ? pair : pair.slice(0, split));
    const value = split === -1 ? '' : safeDecode(pair.slice(split + 1));
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return query;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function sameSignature(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Checks a request's SigV4 signature the way AWS does: credentials, scope, clock skew, payload hash,
 * then the signature itself, recomputed from what actually arrived. Null means the request is authentic.
 */
export async function verifySigV4(request: ReceivedRequest, credentials: SigningCredentials, now = new Date()): Promise<BedrockError | null> {
  const authorization = header(request, 'authorization');
  if (!authorization) return bedrockError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const parts = parseAuthorization(authorization);
  if ('type' in parts) return parts;

  if (parts.accessKeyId !== credentials.accessKeyId) {
    return bedrockError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  const token = header(request, 'x-amz-security-token');
  if (token !== credentials.sessionToken) {
    return bedrockError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }

  const amzDateText = header(request, 'x-amz-date');
  const amzDate = amzDateText ? parseAmzDate(amzDateText) : null;
  if (!amzDateText || !amzDate) {
    return bedrockError('IncompleteSignatureException', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (parts.scopeDate !== amzDateText.slice(0, 8)) {
    return bedrockError(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parts.scopeDate}' != '${amzDateText.slice(0, 8)}', from '${amzDateText}'.`,
    );
  }
  if (parts.service !== SIGNING_SERVICE) {
    return bedrockError('InvalidSignatureException', `Credential should be scoped to correct service: '${SIGNING_SERVICE}'.`);
  }
  if (parts.region !== credentials.region) {
    return bedrockError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${parts.region}'.`);
  }
  const skew = amzDate.getTime() - now.getTime();
  if (skew < -MAX_SKEW_MS) {
    const limit = formatAmzDate(new Date(now.getTime() - MAX_SKEW_MS));
    return bedrockError('InvalidSignatureException', `Signature expired: ${amzDateText} is now earlier than ${limit} (${formatAmzDate(now)} - 5 min.)`);
  }
  if (skew > MAX_SKEW_MS) {
    const limit = formatAmzDate(new Date(now.getTime() + MAX_SKEW_MS));
    return bedrockError('InvalidSignatureException', `Signature not yet current: ${amzDateText} is still later than ${limit} (${formatAmzDate(now)} + 5 min.)`);
  }

  const signed = new Set(parts.signedHeaders);
  if (!signed.has('host') && !signed.has(':authority')) {
    return bedrockError('InvalidSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (credentials.sessionToken && !signed.has('x-amz-security-token')) {
    return bedrockError('InvalidSignatureException', "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
  }
  // A declared payload hash is what gets signed, so it must be the hash of the bytes that arrived.
  const declaredHash = header(request, 'x-amz-content-sha256');
  if (declaredHash !== undefined && (declaredHash === UNSIGNED_PAYLOAD || declaredHash !== sha256Hex(request.body))) {
    return bedrockError('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  const headers: Record<string, string> = {};
  for (const name of parts.signedHeaders) {
    const value = header(request, name);
    if (value === undefined) return bedrockError('InvalidSignatureException', SIGNATURE_MISMATCH);
    headers[name] = value;
  }
  const signer = new SignatureV4({
    service: SIGNING_SERVICE,
    region: credentials.region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    sha256: Sha256,
    // Only what the client signed is signed again; nothing is added.
    applyChecksum: false,
  });
  const recomputed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: header(request, 'host') ?? header(request, ':authority') ?? 'localhost',
      path: request.rawPath,
      query: parseQuery(request.rawQuery),
      headers,
      body: request.body,
    },
    { signingDate: amzDate, signableHeaders: signed },
  );
  const expected = parseAuthorization(String(recomputed.headers.authorization ?? ''));
  if ('type' in expected) return bedrockError('InvalidSignatureException', SIGNATURE_MISMATCH);
  const sameHeaders = expected.signedHeaders.join(';') === parts.signedHeaders.join(';');
  return sameHeaders && sameSignature(expected.signature, parts.signature) ? null : bedrockError('InvalidSignatureException', SIGNATURE_MISMATCH);
}
