import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import type { RegistrationCause } from '../api/phone-types.js';
import { createResponse, parseSipMessage, type SipRequest } from './message/index.js';
import { registrationCause } from './registration-cause.js';
import { SipIdentity, type RegistrationDetail } from './sip-identity.js';

/** A UDP "registrar" on loopback that answers every REGISTER with one status, or stays silent. */
async function registrar(status: number | 'silent'): Promise<{ port: number; close(): void }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (data, from) => {
    if (status === 'silent') return;
    const request = parseSipMessage(data) as SipRequest;
    socket.send(createResponse(request, status).toString(), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => socket.close() };
}

/** Register once against `server`; what the identity told its owner and what it threw. */
async function registerAt(server: { address: string; port: number }, auth?: { username: string; password: string }): Promise<{ detail: RegistrationDetail | undefined; error: { code?: string; status?: number; registrationCause?: RegistrationCause; message: string } }> {
  let failed: RegistrationDetail | undefined;
  const identity = await SipIdentity.create({
    aor: { user: 'alice', domain: `${server.address}:${server.port}` },
    transport: 'udp',
    local: { address: '127.0.0.1', port: 0 },
    server,
    ...(auth ? { auth } : {}),
    sessionDescriptionHandlerFactory: staticSdhFactory(),
    onRegistrationChange: (state, detail) => {
      if (state === 'failed') failed = detail;
    },
  });
  try {
    const error = await identity.register().then(
      () => ({ message: 'registered' }),
      (e: { code?: string; status?: number; registrationCause?: RegistrationCause; message: string }) => e,
    );
    return { detail: failed, error };
  } finally {
    await identity.dispose({ serverGone: true });
  }
}

describe('why a registration failed (core/sip/registration-cause.ts, SipIdentity.register)', () => {
  let lab: Lab | undefined;
  afterAll(async () => lab?.stop());

  it('reads the outcome: credentials refused, none given, no answer, unreachable, rejected with its code', () => {
    const base = { local: false, credentials: true, sendFailures: 0 };
    expect(registrationCause({ ...base, status: 200 })).toBeUndefined();
    expect(registrationCause({ ...base, status: 401 })).toBe('credentials');
    expect(registrationCause({ ...base, status: 407 })).toBe('credentials');
    expect(registrationCause({ ...base, status: 403 })).toBe('credentials');
    expect(registrationCause({ ...base, status: 401, credentials: false })).toBe('no-credentials');
    expect(registrationCause({ ...base, status: 403, credentials: false })).toBe('rejected');
    expect(registrationCause({ ...base, status: 408, local: true })).toBe('no-answer');
    expect(registrationCause({ ...base, status: 408, local: true, sendFailures: 3 })).toBe('unreachable');
    expect(registrationCause({ ...base, status: 503, local: true })).toBe('unreachable');
    // the same codes sent by a server are its answer, not a timeout or a transport error of ours
    expect(registrationCause({ ...base, status: 408 })).toBe('rejected');
    expect(registrationCause({ ...base, status: 503 })).toBe('rejected');
    expect(registrationCause({ ...base, status: 404 })).toBe('rejected');
  });

  it('a wrong password against a digest registrar (the lab with --auth) is "credentials"; no password is "no-credentials"', async () => {
    lab = await Lab.start({ auth: true, users: { alice: { password: 'right' } } });
    const server = { address: '127.0.0.1', port: lab.sip.ports.udp! };
    const wrong = await registerAt(server, { username: 'alice', password: 'wrong' });
    expect(wrong.detail).toEqual({ status: 401, cause: 'credentials' });
    expect(wrong.error).toMatchObject({ code: 'REGISTER_FAILED', status: 401, registrationCause: 'credentials', message: 'the server refused the user name or password (401)' });
    const none = await registerAt(server);
    expect(none.detail).toEqual({ status: 401, cause: 'no-credentials' });
    const right = await registerAt(server, { username: 'alice', password: 'right' });
    expect(right.error.message).toBe('registered');
  });

  it('a 403 after credentials is "credentials"; a 404 from the server is "rejected" with its code', async () => {
    const forbidden = await registrar(403);
    const missing = await registrar(404);
    try {
      expect((await registerAt({ address: '127.0.0.1', port: forbidden.port }, { username: 'alice', password: 'x' })).detail).toEqual({ status: 403, cause: 'credentials' });
      const rejected = await registerAt({ address: '127.0.0.1', port: missing.port }, { username: 'alice', password: 'x' });
      expect(rejected.detail).toEqual({ status: 404, cause: 'rejected' });
      expect(rejected.error.message).toBe('REGISTER was answered 404');
    } finally {
      forbidden.close();
      missing.close();
    }
  });

  it('an address nothing can be sent to is "unreachable" at once; a server that stays silent is "no-answer" after Timer F (32 s)', async () => {
    // The limited broadcast address: the kernel refuses the send (no SO_BROADCAST), so nothing leaves this machine.
    const unreachable = await registerAt({ address: '255.255.255.255', port: 5060 }, { username: 'alice', password: 'x' });
    expect(unreachable.detail).toEqual({ status: 503, cause: 'unreachable' });
    expect(unreachable.error).toMatchObject({ registrationCause: 'unreachable', message: 'the server cannot be reached' });
    const silent = await registrar('silent');
    try {
      const quiet = await registerAt({ address: '127.0.0.1', port: silent.port }, { username: 'alice', password: 'x' });
      expect(quiet.detail).toEqual({ status: 408, cause: 'no-answer' });
      expect(quiet.error).toMatchObject({ code: 'REGISTER_FAILED', status: 408, message: 'the server did not answer the REGISTER' });
    } finally {
      silent.close();
    }
  }, 60_000);
});
