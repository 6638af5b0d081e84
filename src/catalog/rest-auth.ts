/**
 * Authentication for the Iceberg REST catalog: none, OAuth2 client credentials (REST spec `/v1/oauth/tokens`
 * or an external token endpoint), and AWS SigV4 (S3 Tables: signing name `s3tables`; Glue: `glue`).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { FloeError } from '../errors.js';

export type RestAuthConfig =
  | { readonly type: 'none' }
  | { readonly type: 'bearer'; readonly token: string }
  | {
      readonly type: 'oauth2';
      /** Token endpoint; default `<uri>/v1/oauth/tokens`. */
      readonly serverUri?: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scope?: string;
    }
  | {
      readonly type: 'sigv4';
      readonly signingName: string;
      readonly region: string;
      /** Static credentials; when absent, the default AWS chain (env, profile, IRSA, Pod Identity, IMDS). */
      readonly accessKeyId?: string;
      readonly secretAccessKey?: string;
      readonly sessionToken?: string;
    };

export interface HttpRequestParts {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface RestAuth {
  /** Returns the headers to send (may add Authorization, x-amz-*). */
  authorize(req: HttpRequestParts): Promise<Record<string, string>>;
  /** Called after a 401: drop cached tokens so the next call fetches a new one. */
  invalidate(): void;
}

/** Refresh OAuth2 tokens this long before they expire. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;
const TOKEN_REQUEST_TIMEOUT_MS = 30_000;

export function createRestAuth(cfg: RestAuthConfig, catalogUri: string): RestAuth {
  switch (cfg.type) {
    case 'none':
      return { authorize: async (req) => req.headers, invalidate: () => undefined };
    case 'bearer':
      return { authorize: async (req) => ({ ...req.headers, authorization: `Bearer ${cfg.token}` }), invalidate: () => undefined };
    case 'oauth2':
      return new OAuth2Auth(cfg, catalogUri);
    case 'sigv4':
      return new SigV4Auth(cfg);
  }
}

class OAuth2Auth implements RestAuth {
  private token: { value: string; expiresAtMs: number } | null = null;
  private inflight: Promise<string> | null = null;
  constructor(
    private readonly cfg: Extract<RestAuthConfig, { type: 'oauth2' }>,
    private readonly catalogUri: string,
  ) {}

  invalidate(): void {
    this.token = null;
  }

  async authorize(req: HttpRequestParts): Promise<Record<string, string>> {
    const t = await this.currentToken();
    return { ...req.headers, authorization: `Bearer ${t}` };
  }

  private async currentToken(): Promise<string> {
    if (this.token !== null && Date.now() < this.token.expiresAtMs - TOKEN_REFRESH_MARGIN_MS) return this.token.value;
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchToken(): Promise<string> {
    const url = this.cfg.serverUri ?? `${this.catalogUri.replace(/\/+$/, '')}/v1/oauth/tokens`;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.cfg.clientId,
      client_secret: this.cfg.clientSecret,
      scope: this.cfg.scope ?? 'catalog',
    });
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
        signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      throw new FloeError('catalog_unreachable', `OAuth2 token endpoint ${url} unreachable: ${(e as Error).message}`, { url }, e);
    }
    const text = await res.text();
    if (!res.ok) {
      // Never echo the request (it carries the client secret); the server's error text is safe to show.
      throw new FloeError(res.status >= 500 ? 'catalog_server_error' : 'catalog_auth_failed', `OAuth2 token request to ${url} failed: HTTP ${res.status} ${text.slice(0, 300)}`, {
        url,
        status: res.status,
      });
    }
    const j = JSON.parse(text) as { access_token?: string; expires_in?: number };
    if (typeof j.access_token !== 'string') throw new FloeError('catalog_auth_failed', `OAuth2 token response from ${url} has no access_token`, { url });
    this.token = { value: j.access_token, expiresAtMs: Date.now() + (j.expires_in ?? 3600) * 1000 };
    return j.access_token;
  }
}

export class SigV4Auth implements RestAuth {
  private readonly signer: SignatureV4;
  constructor(cfg: Extract<RestAuthConfig, { type: 'sigv4' }>) {
    const credentials =
      cfg.accessKeyId !== undefined && cfg.secretAccessKey !== undefined
        ? {
            accessKeyId: cfg.accessKeyId,
            secretAccessKey: cfg.secretAccessKey,
            ...(cfg.sessionToken !== undefined ? { sessionToken: cfg.sessionToken } : {}),
          }
        : fromNodeProviderChain();
    // applyChecksum off: the body hash header is added (and signed) by sign() itself, when asked for.
    this.signer = new SignatureV4({ credentials, region: cfg.region, service: cfg.signingName, sha256: Sha256, applyChecksum: false });
  }

  invalidate(): void {
    // Credentials come from the provider chain, which refreshes them itself before expiry.
  }

  authorize(req: HttpRequestParts): Promise<Record<string, string>> {
    return this.sign(req, new Date(), true);
  }

  /**
   * SigV4 headers for a request at `signingDate`. `contentHash`: also sign `x-amz-content-sha256` (S3 Tables and
   * Glue accept it; AWS's published test suite signs without it, which is how the tests check this signer).
   */
  async sign(req: HttpRequestParts, signingDate: Date, contentHash: boolean): Promise<Record<string, string>> {
    const query: Record<string, string> = {};
    req.url.searchParams.forEach((v, k) => {
      query[k] = v;
    });
    const headers: Record<string, string> = { ...req.headers, host: req.url.host };
    if (contentHash) headers['x-amz-content-sha256'] = Buffer.from(await sha256(req.body ?? '')).toString('hex');
    try {
      const signed = await this.signer.sign({
        method: req.method,
        protocol: req.url.protocol,
        hostname: req.url.hostname,
        ...(req.url.port !== '' ? { port: Number(req.url.port) } : {}),
        // The already-encoded path: the signer encodes it once more, the double encoding AWS expects of
        // every service but S3 (SigV4 "canonical URI").
        path: req.url.pathname,
        query,
        headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
      }, { signingDate });
      return signed.headers;
    } catch (e) {
      throw new FloeError('catalog_auth_failed', `SigV4 signing failed (no AWS credentials?): ${(e as Error).message}`, {}, e);
    }
  }
}

async function sha256(s: string): Promise<Uint8Array> {
  const h = new Sha256();
  h.update(s);
  return h.digest();
}
