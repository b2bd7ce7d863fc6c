import { PhoneError } from '../api/phone-error.js';
import type { AccountConfig } from '../api/phone-types.js';
import { bareHost, parseSipUri } from '../sip/message/index.js';
import { isSecureTransport, normalizeAddress, type Endpoint } from '../sip/transport/endpoint.js';
import { TlsError } from '../sip/transport/tls-error.js';
import { normalizeFingerprint, readCaFile, type TlsClientSettings } from '../sip/transport/tls-trust.js';

/**
 * How an account's TLS or WSS identity checks `server` (one of the account's servers, RFC 5922 §7): the name it must
 * carry is the host of that server's URI (or the account's `tls.serverName`), trusted by the system's CA store, the
 * account's CA file or its pinned fingerprint. Undefined for a transport in the clear. A CA file that cannot be read
 * or a bad fingerprint is TLS_FAILED: the account does not register rather than trust less than it was told to.
 */
export function accountTlsSettings(config: AccountConfig, server: Endpoint): TlsClientSettings | undefined {
  if (!isSecureTransport(config.transport)) return undefined;
  const tls = config.tls ?? {};
  try {
    return {
      serverName: tls.serverName ?? serverHost(config, server),
      ...(tls.caFile !== undefined ? { caPem: readCaFile(tls.caFile) } : {}),
      ...(tls.fingerprint !== undefined ? { fingerprint: normalizeFingerprint(tls.fingerprint) } : {}),
    };
  } catch (error) {
    if (error instanceof TlsError) throw new PhoneError('TLS_FAILED', `account ${config.id}: ${error.message}`);
    throw error;
  }
}

/** The host of the account's server URI that leads to `server` (the primary's when none matches). */
function serverHost(config: AccountConfig, server: Endpoint): string {
  const hosts = [config.server, ...(config.backupServers ?? [])].map((uri) => bareHost(parseSipUri(uri).host));
  return hosts.find((host) => normalizeAddress(host) === server.address) ?? hosts[0]!;
}

/**
 * The SRTP policy of an account's calls (issue 18): its setting, `required` by default over TLS and WSS. Never over a
 * transport in the clear, whatever the setting says (the settings check refuses that too): SDES keys would be readable.
 */
export function accountMediaEncryption(config: AccountConfig): { encryption?: 'required' | 'preferred' } {
  if (!isSecureTransport(config.transport)) return {};
  const setting = config.mediaEncryption ?? 'required';
  return setting === 'off' ? {} : { encryption: setting };
}
