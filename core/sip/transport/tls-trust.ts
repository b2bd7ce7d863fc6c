import fs from 'node:fs';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { TlsError } from './tls-error.js';

/**
 * How a TLS client decides that the server is the one the account names (RFC 5922 §7): against trust anchors (the
 * system's CA store or a CA file) with the server's name checked, or by a pinned certificate fingerprint.
 */
export interface TlsClientSettings {
  /** The name the certificate must carry (the host of the account's server URI), and the SNI when it is not an address. */
  serverName: string;
  /** Trust anchors as PEM text (a CA file's content); absent: the system's CA store (`systemCaCertificates`). */
  caPem?: string;
  /**
   * A pinned SHA-256 fingerprint (`AB:CD:…`, as `normalizeFingerprint` writes it): exactly that certificate is trusted,
   * whoever signed it and whatever names it carries (a lab's self-signed certificate, a server the user checked).
   */
  fingerprint?: string;
  /** From the TCP connection to the end of the handshake (default 5 s): a server that stalls fails HANDSHAKE_TIMEOUT. */
  handshakeTimeoutMs?: number;
}

/** What a call's TLS hop was (the in-call view's lock, the call log, the scenario report). */
export interface TlsSessionInfo {
  /** `TLSv1.3`, `TLSv1.2`. */
  version: string;
  /** The negotiated cipher suite (OpenSSL's standard name). */
  cipher: string;
  /** SHA-256 fingerprint of the peer's certificate; absent on a server's side (no client certificates). */
  peerFingerprint?: string;
  /** How the peer was trusted: by a CA (with its name checked), or by the pinned fingerprint. */
  verifiedBy?: 'ca' | 'pin';
}

/** RFC 8996 / BCP 195: nothing older than TLS 1.2. */
export const minTlsVersion = 'TLSv1.2';

const osBundles = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem', '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem'];
let systemCas: string[] | undefined;

/**
 * The system's CA store: `SSL_CERT_FILE` when set (OpenSSL's own convention), else the operating system's bundle file
 * (Debian's ca-certificates and its kin), else — where the OS keeps its store elsewhere (Windows, macOS) — the Mozilla
 * roots Node carries. Read once per process.
 */
export function systemCaCertificates(): string[] {
  if (systemCas) return systemCas;
  const candidates = [process.env.SSL_CERT_FILE, ...osBundles].filter((f): f is string => f !== undefined && f !== '');
  for (const file of candidates) {
    try {
      const pem = fs.readFileSync(file, 'utf8');
      if (pem.includes('-----BEGIN CERTIFICATE-----')) return (systemCas = [pem]);
    } catch {
      // not this one: the next candidate, or Node's roots
    }
  }
  return (systemCas = [...tls.rootCertificates]);
}

/** A CA file's certificates as PEM text; CA_FILE_UNREADABLE when it cannot be read or holds none. */
export function readCaFile(file: string): string {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new TlsError('CA_FILE_UNREADABLE', `the CA file ${file} cannot be read: ${(error as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new TlsError('CA_FILE_UNREADABLE', `the CA file ${file} holds no PEM certificate`);
  return pem;
}

/** `ab:cd…`, `ABCD…` or `sha256:AB:CD…` as Node writes fingerprint256 (`AB:CD:…`); BAD_FINGERPRINT otherwise. */
export function normalizeFingerprint(text: string): string {
  const hex = text.trim().replace(/^sha-?256[:\s]\s*/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new TlsError('BAD_FINGERPRINT', `"${text.slice(0, 120)}" is not a SHA-256 fingerprint (32 bytes in hex, e.g. AB:CD:…)`);
  return hex.match(/../g)!.join(':');
}

/**
 * The options of node:tls for a client with these settings. With a pin, the chain is not checked here (the pinned
 * certificate may be self-signed); `checkPeer` compares the fingerprint once the handshake is done, before any SIP.
 */
export function tlsClientOptions(settings: TlsClientSettings): tls.ConnectionOptions {
  const serverName = settings.serverName.replace(/^\[|\]$/g, '');
  const options: tls.ConnectionOptions = { minVersion: minTlsVersion };
  // RFC 6066 §3: an address is never sent as the server name.
  if (isIP(serverName) === 0) options.servername = serverName;
  if (settings.fingerprint !== undefined) {
    options.rejectUnauthorized = false;
    return options;
  }
  options.rejectUnauthorized = true;
  options.ca = settings.caPem !== undefined ? [settings.caPem] : systemCaCertificates();
  // The name checked is the account's server name, not the address the socket reached (RFC 5922 §7.2).
  options.checkServerIdentity = (_host, certificate) => tls.checkServerIdentity(serverName, certificate);
  return options;
}

/** After the handshake: the peer is the pinned one (or trusted by its CA), and what the session is. Throws TlsError. */
export function checkPeer(socket: tls.TLSSocket, settings: TlsClientSettings, server: string): TlsSessionInfo {
  const peer = socket.getPeerCertificate();
  const fingerprint = peer && typeof peer.fingerprint256 === 'string' ? peer.fingerprint256 : undefined;
  if (settings.fingerprint !== undefined) {
    const pinned = normalizeFingerprint(settings.fingerprint);
    if (fingerprint !== pinned) {
      throw new TlsError('CERT_FINGERPRINT_MISMATCH', `the certificate of ${server} is not the pinned one: its SHA-256 fingerprint is ${fingerprint ?? 'missing'}, the account pins ${pinned}`);
    }
  } else if (!socket.authorized) {
    // rejectUnauthorized already refused it; this is the belt to that pair of braces
    throw new TlsError('CERT_UNTRUSTED', `the certificate of ${server} is not trusted: ${String(socket.authorizationError)}`);
  }
  return { ...sessionInfo(socket), ...(fingerprint !== undefined ? { peerFingerprint: fingerprint } : {}), verifiedBy: settings.fingerprint !== undefined ? 'pin' : 'ca' };
}

/** Version and cipher of an established TLS socket. */
export function sessionInfo(socket: tls.TLSSocket): TlsSessionInfo {
  return { version: socket.getProtocol() ?? 'unknown', cipher: socket.getCipher()?.standardName ?? socket.getCipher()?.name ?? 'unknown' };
}
