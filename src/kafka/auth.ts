/**
 * Kafka authentication for the consumer and the dead-letter producer (librdkafka settings, plus OAUTHBEARER
 * tokens):
 *   scram                  SASL/SCRAM-SHA-512 (or -256) over TLS: MSK's username/password authentication
 *   msk-iam                SASL/OAUTHBEARER with tokens from aws-msk-iam-sasl-signer-js (a SigV4-presigned
 *                          `kafka-cluster:Connect` request, credentials from the default AWS chain: IRSA, Pod
 *                          Identity, environment, profile)
 *   oauthbearer-unsecured  SASL/OAUTHBEARER with unsecured JWS tokens ({"alg":"none"}), which Kafka's default
 *                          validator accepts: for development and test brokers only
 *   none                   `kafka.properties` as given
 * node-rdkafka does not expose librdkafka's token refresh callback: it sets a token with no expiry and expects
 * the client to set a new one in time. floe refreshes at 80 % of each token's lifetime; brokers that
 * re-authenticate (MSK: connections.max.reauth.ms) then see a valid token.
 */
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { FloeError, describeError } from '../errors.js';

export type KafkaAuthConfig =
  | { readonly type: 'none' }
  | { readonly type: 'scram'; readonly mechanism: 'SCRAM-SHA-512' | 'SCRAM-SHA-256'; readonly username: string; readonly password: string }
  | { readonly type: 'msk-iam'; readonly region: string }
  | { readonly type: 'oauthbearer-unsecured'; readonly principal: string; readonly lifetimeMs: number };

export interface KafkaTlsConfig {
  readonly enabled: boolean;
  /** CA certificate(s) (PEM) to verify the brokers with; the system's CAs when unset (MSK's are public). */
  readonly caLocation?: string;
}

export interface OAuthToken {
  readonly value: string;
  readonly expiresAtMs: number;
}

export type TokenSource = () => Promise<OAuthToken>;

/** A token is refreshed at this fraction of its lifetime, and never sooner than this after the last. */
const REFRESH_AT_LIFETIME_FRACTION = 0.8;
const REFRESH_INTERVAL_MIN_MS = 1_000;
const REFRESH_RETRY_MS = 5_000;

/** librdkafka settings for an authentication and TLS choice (merged under `kafka.properties`). */
export function clientProperties(auth: KafkaAuthConfig, tls: KafkaTlsConfig): Record<string, string> {
  const out: Record<string, string> = {};
  const sasl = auth.type !== 'none';
  if (sasl || tls.enabled) out['security.protocol'] = sasl ? (tls.enabled ? 'SASL_SSL' : 'SASL_PLAINTEXT') : 'SSL';
  if (tls.enabled && tls.caLocation !== undefined) out['ssl.ca.location'] = tls.caLocation;
  switch (auth.type) {
    case 'none':
      break;
    case 'scram':
      out['sasl.mechanisms'] = auth.mechanism;
      out['sasl.username'] = auth.username;
      out['sasl.password'] = auth.password;
      break;
    case 'msk-iam':
    case 'oauthbearer-unsecured':
      out['sasl.mechanisms'] = 'OAUTHBEARER';
      break;
  }
  return out;
}

const b64url = (s: string): string => Buffer.from(s).toString('base64url');

/** An unsecured JWS (RFC 7515 with "alg":"none"): header.claims. with an empty signature, as Kafka's unsecured validator expects. */
export function unsecuredJws(principal: string, lifetimeMs: number, nowMs = Date.now()): OAuthToken {
  const iat = Math.floor(nowMs / 1000);
  const exp = Math.floor((nowMs + lifetimeMs) / 1000);
  return { value: `${b64url(JSON.stringify({ alg: 'none' }))}.${b64url(JSON.stringify({ sub: principal, iat, exp }))}.`, expiresAtMs: exp * 1000 };
}

/** Where OAUTHBEARER tokens come from (null: the mechanism needs none). */
export function tokenSource(auth: KafkaAuthConfig): TokenSource | null {
  switch (auth.type) {
    case 'msk-iam':
      return async () => {
        try {
          const t = await generateAuthToken({ region: auth.region });
          return { value: t.token, expiresAtMs: t.expiryTime };
        } catch (e) {
          throw new FloeError('kafka_failed', `MSK IAM token (region ${auth.region}): ${describeError(e)}`, { region: auth.region }, e);
        }
      };
    case 'oauthbearer-unsecured':
      return () => Promise.resolve(unsecuredJws(auth.principal, auth.lifetimeMs));
    default:
      return null;
  }
}

/**
 * Keeps a client's OAUTHBEARER token fresh: sets the first before the client connects, then a new one at 80 % of
 * each token's lifetime. A failed refresh is retried (the current token stays valid until it expires).
 */
export class TokenRefresher {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  refreshes = 0;

  constructor(
    private readonly source: TokenSource,
    private readonly set: (token: string) => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  async start(): Promise<void> {
    const t = await this.source();
    this.set(t.value);
    this.schedule(t);
  }

  private schedule(t: OAuthToken): void {
    if (this.stopped) return;
    const lifetime = t.expiresAtMs - Date.now();
    const delay = Math.max(REFRESH_INTERVAL_MIN_MS, Math.floor(lifetime * REFRESH_AT_LIFETIME_FRACTION));
    this.timer = setTimeout(() => void this.refresh(), delay);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    try {
      const t = await this.source();
      if (this.stopped) return;
      this.set(t.value);
      this.refreshes++;
      this.schedule(t);
    } catch (e) {
      this.onError(e);
      if (!this.stopped) {
        this.timer = setTimeout(() => void this.refresh(), REFRESH_RETRY_MS);
        this.timer.unref();
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
