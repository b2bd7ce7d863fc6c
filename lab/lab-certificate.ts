import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensurePrivateDir, restrictMode, privateFileMode } from '../core/files/private-files.js';
import type { TlsServerCredentials } from '../core/sip/transport/stream-listeners.js';

const run = promisify(execFile);

/** The lab's TLS certificate: what its TLS and WSS listeners present, and the fingerprint phones pin. */
export interface LabCertificate extends TlsServerCredentials {
  /** SHA-256 of the certificate, `AB:CD:…` (what an account's `tls.fingerprint` takes). */
  fingerprint: string;
  certFile: string;
  /** Made on this start (false: the one kept in the data dir from an earlier start). */
  created: boolean;
}

export class LabCertificateError extends Error {
  override readonly name = 'LabCertificateError';
  constructor(
    readonly code: 'OPENSSL_FAILED' | 'UNREADABLE',
    message: string,
  ) {
    super(message);
  }
}

/** Made for two years and three months (the CA/Browser Forum's old 825-day cap); remade when it has expired. */
const validDays = 825;

/**
 * The lab's self-signed certificate for `address` (issue 18: "a certificate it makes on first start and keeps in its
 * data dir"), under `<dataDir>/lab-tls/` with the key 0600. It is made with the openssl command-line tool (node:crypto
 * cannot issue X.509 certificates): a P-256 key, subjectAltName `address`, 127.0.0.1, ::1 and localhost. A kept one is
 * reused unless it has expired or does not name `address`; then a new one replaces it.
 */
export async function labCertificate(dataDir: string, address: string): Promise<LabCertificate> {
  const dir = path.join(dataDir, 'lab-tls');
  ensurePrivateDir(dir);
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const kept = readKept(certFile, keyFile, address);
  if (kept) return { ...kept, certFile, created: false };
  const names = [...new Set([address, '127.0.0.1', '::1', 'localhost'])].map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`));
  const fresh = { cert: `${certFile}.new`, key: `${keyFile}.new` };
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', fresh.key, '-out', fresh.cert, '-days', String(validDays), '-subj', '/CN=Veilphone lab', '-addext', `subjectAltName=${names.join(',')}`]);
  } catch (error) {
    for (const file of Object.values(fresh)) fs.rmSync(file, { force: true });
    throw new LabCertificateError('OPENSSL_FAILED', `the lab cannot make its TLS certificate with the openssl tool: ${(error as Error).message.split('\n')[0]}`);
  }
  restrictMode(fresh.key, privateFileMode);
  restrictMode(fresh.cert, privateFileMode);
  fs.renameSync(fresh.key, keyFile);
  fs.renameSync(fresh.cert, certFile);
  const made = readKept(certFile, keyFile, address);
  if (!made) throw new LabCertificateError('UNREADABLE', `the lab's new certificate in ${dir} cannot be read back`);
  return { ...made, certFile, created: true };
}

function readKept(certFile: string, keyFile: string, address: string): Omit<LabCertificate, 'certFile' | 'created'> | undefined {
  let cert: string;
  let key: string;
  try {
    cert = fs.readFileSync(certFile, 'utf8');
    key = fs.readFileSync(keyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LabCertificateError('UNREADABLE', `the lab's certificate cannot be read: ${(error as Error).message}`);
  }
  let x509: X509Certificate;
  let matches: boolean;
  try {
    x509 = new X509Certificate(cert);
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch {
    return undefined; // damaged: made again
  }
  const expired = Date.parse(x509.validTo) <= Date.now();
  const names = isIP(address) ? x509.checkIP(address) : x509.checkHost(address);
  if (expired || names === undefined || !matches) return undefined;
  return { cert, key, fingerprint: x509.fingerprint256 };
}
