import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Cloudflare Access stand-in: a team origin that serves its JWKS at /cdn-cgi/access/certs
 * and, for tests only, mints assertions at POST /mint {email, aud, ttl_seconds?, kid?}.
 */
export interface AccessStandIn {
  url: string;
  close(): Promise<void>;
}

const b64url = (data: ArrayBuffer | Uint8Array | string) =>
  Buffer.from(typeof data === 'string' ? Buffer.from(data) : data instanceof Uint8Array ? data : new Uint8Array(data)).toString('base64url');

export async function startAccessStandIn(): Promise<AccessStandIn> {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const kid = 'local-access-key';
  const jwks = JSON.stringify({ keys: [{ kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' }] });
  let origin = '';

  const mint = async (body: { email: string; aud: string; ttl_seconds?: number; kid?: string }) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', kid: body.kid ?? kid, typ: 'JWT' }));
    const payload = b64url(
      JSON.stringify({ aud: [body.aud], email: body.email, iss: origin, sub: body.email, iat: now, exp: now + (body.ttl_seconds ?? 300), type: 'app' }),
    );
    const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', pair.privateKey, Buffer.from(`${header}.${payload}`));
    return `${header}.${payload}.${b64url(signature)}`;
  };

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/cdn-cgi/access/certs') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
      return;
    }
    if (req.method === 'POST' && req.url === '/mint') {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        mint(JSON.parse(raw))
          .then((token) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token })))
          .catch((err: unknown) => res.writeHead(400).end(String(err)));
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
