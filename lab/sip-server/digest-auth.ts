import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { splitOutsideQuotes } from '../../core/sip/message/index.js';

/** Digest authentication with MD5 and qop=auth (RFC 3261 §22, RFC 2617 §3.2). */
export class DigestAuthenticator {
  private readonly nonces = new Map<string, number>();

  constructor(
    readonly realm: string,
    private readonly nonceLifetimeMs = 300_000,
  ) {}

  /** The WWW-Authenticate / Proxy-Authenticate value for a fresh challenge. */
  challenge(stale = false): string {
    const nonce = randomBytes(16).toString('hex');
    this.nonces.set(nonce, Date.now() + this.nonceLifetimeMs);
    this.sweep();
    return `Digest realm="${this.realm}", nonce="${nonce}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
  }

  /**
   * Check an Authorization / Proxy-Authorization value. Returns the username when the credentials are valid,
   * 'stale' when they were right for an expired nonce, or undefined.
   */
  verify(header: string | undefined, method: string, password: (user: string) => string | undefined): string | 'stale' | undefined {
    if (!header || !/^digest\s/i.test(header)) return undefined;
    const fields = parseDigestFields(header.replace(/^digest\s+/i, ''));
    const { username, realm, nonce, uri, response, qop, nc, cnonce } = fields;
    if (!username || !nonce || !uri || !response || realm !== this.realm) return undefined;
    const secret = password(username);
    if (secret === undefined) return undefined;
    const ha1 = md5(`${username}:${this.realm}:${secret}`);
    const ha2 = md5(`${method}:${uri}`);
    const expected = qop ? md5(`${ha1}:${nonce}:${nc ?? ''}:${cnonce ?? ''}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    const a = Buffer.from(expected);
    const b = Buffer.from(response.toLowerCase());
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    const expiry = this.nonces.get(nonce);
    if (expiry === undefined || expiry < Date.now()) return 'stale';
    return username;
  }

  private sweep(): void {
    if (this.nonces.size < 10_000) return;
    const now = Date.now();
    for (const [nonce, expiry] of this.nonces) if (expiry < now) this.nonces.delete(nonce);
  }
}

export function parseDigestFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of splitOutsideQuotes(text, ',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out[key] = value;
  }
  return out;
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}
