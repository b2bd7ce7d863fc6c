import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

/** Debian's pylibsrtp lives in Debian's Python; the `python3` first on PATH here may be another interpreter. */
export const debianPython = '/usr/bin/python3';
const script = path.join(import.meta.dirname, 'libsrtp.py');

export type LibsrtpProfile = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';
export type LibsrtpOp = 'protect' | 'protect_rtcp' | 'unprotect' | 'unprotect_rtcp';
export type LibsrtpResult = { data: Buffer; error?: undefined } | { data?: undefined; error: string };

/**
 * Why libsrtp cannot be used here, or undefined when it can. Like missingRequirements: a skip with a printed
 * reason outside CI, an error in CI (CI=true), where .ci/run installs python3-pylibsrtp.
 */
export function libsrtpMissing(): string | undefined {
  try {
    execFileSync(debianPython, ['-c', 'import pylibsrtp'], { stdio: 'pipe', timeout: 20_000 });
    return undefined;
  } catch (error) {
    const reason = `${debianPython} cannot import pylibsrtp (Debian python3-pylibsrtp): ${String((error as { stderr?: Buffer }).stderr ?? error).trim().split('\n').at(-1)}`;
    if (process.env.CI) throw new Error(`interop requirements not met in CI: ${reason}`);
    console.warn(`[skip] ${reason}`);
    return reason;
  }
}

/** Run libsrtp.py once: one JSON request on its stdin, one JSON reply from its stdout (bounded in time). */
export function callLibsrtp<T>(request: object, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(debianPython, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`libsrtp.py exited with ${code ?? signal}\n${stderr.slice(-2000)}`));
      try {
        resolve(JSON.parse(stdout) as T);
      } catch (error) {
        reject(new Error(`libsrtp.py replied with something that is not JSON: ${String(error)}\n${stdout.slice(0, 500)}`));
      }
    });
    child.stdin.end(JSON.stringify(request));
  });
}

/** Run a sequence of libsrtp operations on one outbound and one inbound session keyed alike (see libsrtp.py). */
export async function libsrtp(profile: LibsrtpProfile, masterKey: Buffer, masterSalt: Buffer, ops: Array<{ op: LibsrtpOp; data: Uint8Array }>, windowSize = 128): Promise<LibsrtpResult[]> {
  const reply = await callLibsrtp<{ results: Array<{ data?: string; error?: string }> }>({
    profile,
    key: Buffer.concat([masterKey, masterSalt]).toString('hex'),
    windowSize,
    ops: ops.map((o) => ({ op: o.op, data: Buffer.from(o.data).toString('hex') })),
  });
  return reply.results.map((r) => (r.error !== undefined ? { error: r.error } : { data: Buffer.from(r.data!, 'hex') }));
}
