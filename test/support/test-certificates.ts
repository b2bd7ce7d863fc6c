import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key, PEM, with its SHA-256 fingerprint as Node writes it (`AB:CD:…`). */
export interface TestCertificate {
  cert: string;
  key: string;
  fingerprint: string;
  certFile: string;
  keyFile: string;
}

/** A throwaway CA made with the openssl CLI (as the interop tests' Kamailio CA is), and certificates it signs. */
export interface TestPki {
  dir: string;
  /** The CA's certificate file (an account's `tls.caFile`). */
  caFile: string;
  /**
   * A certificate for `names` (DNS names and IP addresses, as subjectAltName; `DNS:127.0.0.1` forces the type), valid
   * now, or expired in 2020.
   */
  issue(names: string[], options?: { expired?: boolean }): Promise<TestCertificate>;
  /** A self-signed certificate for `names` (no CA vouches for it). */
  selfSigned(names: string[]): Promise<TestCertificate>;
  remove(): Promise<void>;
}

const caConfig = `[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
`;

/** Addresses become IP names, others DNS names; a name written `DNS:…` or `IP:…` is taken as written. */
function subjectAltName(names: string[]): string {
  return `subjectAltName=${names.map((n) => (/^(DNS|IP):/.test(n) ? n : /^[0-9.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`;
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'veilphone-pki-'));
  const file = (name: string): string => path.join(dir, name);
  await fs.writeFile(file('ca.cnf'), caConfig);
  await fs.writeFile(file('index.txt'), '');
  await fs.writeFile(file('serial'), '01\n');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '3', '-subj', '/CN=Veilphone test CA'], { cwd: dir });
  let n = 0;
  const load = async (base: string): Promise<TestCertificate> => {
    const cert = await fs.readFile(file(`${base}.pem`), 'utf8');
    const pem = cert.slice(cert.indexOf('-----BEGIN CERTIFICATE-----'));
    return { cert: pem, key: await fs.readFile(file(`${base}.key`), 'utf8'), fingerprint: new X509Certificate(pem).fingerprint256, certFile: file(`${base}.pem`), keyFile: file(`${base}.key`) };
  };
  return {
    dir,
    caFile: file('ca.pem'),
    async issue(names, options = {}) {
      const base = `server-${++n}`;
      await run('openssl', ['req', '-new', ...ec, '-keyout', file(`${base}.key`), '-out', file(`${base}.csr`), '-subj', `/CN=${names[0]}`, '-addext', subjectAltName(names)], { cwd: dir });
      const validity = options.expired ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] : ['-days', '2'];
      await run('openssl', ['ca', '-batch', '-notext', '-config', file('ca.cnf'), '-cert', file('ca.pem'), '-keyfile', file('ca.key'), '-in', file(`${base}.csr`), '-out', file(`${base}.pem`), ...validity], { cwd: dir });
      return load(base);
    },
    async selfSigned(names) {
      const base = `self-${++n}`;
      await run('openssl', ['req', '-x509', ...ec, '-keyout', file(`${base}.key`), '-out', file(`${base}.pem`), '-days', '2', '-subj', `/CN=${names[0]}`, '-addext', subjectAltName(names)], { cwd: dir });
      return load(base);
    },
    remove: () => fs.rm(dir, { recursive: true, force: true }),
  };
}
