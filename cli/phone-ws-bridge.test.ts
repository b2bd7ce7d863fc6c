import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { PhoneAudioPort } from '../core/api/audio-port.js';
import { decodeAudioFrame, encodeAudioFrame } from '../core/api/audio-wire.js';
import type { PhoneApi } from '../core/api/phone-api.js';
import type { PhoneEvent } from '../core/api/phone-types.js';
import { defaultMediaProvider } from '../core/phone/default-media.js';
import { Phone } from '../core/phone/phone.js';
import { Lab } from '../lab/lab.js';
import { clientFrame, rawWebSocket } from '../test/support/raw-websocket.js';
import { until } from '../test/support/until.js';
import { attachPhoneWsBridge } from './phone-ws-bridge.js';

function fakePhone() {
  const captured: Array<{ callId: string; samples: number[] }> = [];
  const refused: string[] = [];
  const playback = new Set<(callId: string, samples: Int16Array) => void>();
  const listeners = new Set<(event: PhoneEvent) => void>();
  const audio: PhoneAudioPort = {
    capture: (callId, samples) => void captured.push({ callId, samples: [...samples] }),
    onPlayback: (listener) => (playback.add(listener), () => playback.delete(listener)),
    refuse: (problem) => void refused.push(problem),
  };
  const api = {
    audio,
    snapshot: async () => ({ accounts: [], registrations: [], addresses: [], calls: [] }),
    subscribe: (listener: (event: PhoneEvent) => void) => (listeners.add(listener), () => listeners.delete(listener)),
  } as unknown as PhoneApi;
  return { api, captured, refused, play: (callId: string, samples: Int16Array) => playback.forEach((l) => l(callId, samples)), listeners: () => playback.size };
}

describe('the `veilphone serve` WebSocket bridge (cli/phone-ws-bridge.ts)', () => {
  const cleanup: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function start() {
    const phone = fakePhone();
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const bridge = attachPhoneWsBridge({ server, api: phone.api, token: 'tok', origins: () => [origin] });
    cleanup.push(() => new Promise<void>((resolve) => (bridge.wss.close(), server.close(() => resolve()), server.closeAllConnections())));
    const connect = (query = '?token=tok', from = origin) => {
      const socket = new WebSocket(`${origin.replace('http', 'ws')}/api${query}`, { origin: from });
      const texts: Array<Record<string, unknown>> = [];
      const binaries: Buffer[] = [];
      socket.on('message', (data, isBinary) => (isBinary ? binaries.push(data as Buffer) : texts.push(JSON.parse(String(data)))));
      cleanup.push(() => socket.close());
      return { socket, texts, binaries, opened: new Promise<void>((resolve, reject) => (socket.once('open', () => resolve()), socket.once('error', reject))) };
    };
    return { phone, bridge, connect };
  }

  it('refuses a missing or wrong token and other origins', async () => {
    const { connect } = await start();
    await expect(connect('').opened).rejects.toThrow(/401/);
    await expect(connect('?token=nope').opened).rejects.toThrow(/401/);
    await expect(connect('?token=tok', 'http://evil.example').opened).rejects.toThrow(/403/);
  });

  it('carries microphone frames in and far-end frames out (only to clients that asked), refusing and counting malformed frames', async () => {
    const { phone, bridge, connect } = await start();
    const client = connect();
    await client.opened;
    await until(() => client.texts.length > 0);
    expect(client.texts[0]).toEqual({ type: 'hello', version: 1, host: 'serve', audio: true });

    const samples = Int16Array.from({ length: 160 }, (_, i) => i * 100 - 8000);
    client.socket.send(encodeAudioFrame({ kind: 'capture', sequence: 1, callId: 'call-1', samples }));
    client.socket.send(encodeAudioFrame({ kind: 'playback', sequence: 2, callId: 'call-1', samples }));
    client.socket.send(Buffer.from('VV not a frame'));
    client.socket.send(new Uint8Array(2000));
    await until(() => phone.refused.length === 3);
    expect(phone.captured).toEqual([{ callId: 'call-1', samples: [...samples] }]);
    expect(phone.refused.sort()).toEqual(['BAD_KIND', 'TOO_LONG', 'TOO_SHORT']);
    expect(bridge.audioStats()).toMatchObject({ captureFrames: 1, refused: { BAD_KIND: 1, TOO_SHORT: 1, TOO_LONG: 1 } });

    // no far-end audio until the client asks for it
    phone.play('call-1', samples);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.binaries).toHaveLength(0);
    client.socket.send(JSON.stringify({ type: 'audio', on: true }));
    await until(() => phone.listeners() === 1);
    phone.play('call-1', samples);
    await until(() => client.binaries.length === 1);
    const frame = decodeAudioFrame(new Uint8Array(client.binaries[0]!));
    expect(frame).toMatchObject({ ok: true, frame: { kind: 'playback', callId: 'call-1' } });
    client.socket.send(JSON.stringify({ type: 'audio', on: false }));
    await until(() => phone.listeners() === 0);
    client.socket.close();
  });

  it('gives the call\'s audio to one tab at a time: the first to ask; the other\'s microphone is refused and it plays nothing until the first lets go', async () => {
    const { phone, connect } = await start();
    const first = connect();
    const second = connect();
    await Promise.all([first.opened, second.opened]);
    const samples = Int16Array.from({ length: 160 }, (_, i) => i);
    first.socket.send(JSON.stringify({ type: 'audio', on: true }));
    await until(() => phone.listeners() === 1);
    second.socket.send(JSON.stringify({ type: 'audio', on: true }));
    second.socket.send(encodeAudioFrame({ kind: 'capture', sequence: 1, callId: 'call-1', samples }));
    first.socket.send(encodeAudioFrame({ kind: 'capture', sequence: 1, callId: 'call-1', samples }));
    await until(() => phone.captured.length === 1 && phone.refused.length === 1);
    expect(phone.refused).toEqual(['AUDIO_ELSEWHERE']);
    phone.play('call-1', samples);
    await until(() => first.binaries.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second.binaries).toHaveLength(0);
    expect(phone.listeners()).toBe(1);
    // the first tab closes: the second, which asked, has the audio now
    first.socket.close();
    await until(() => {
      phone.play('call-1', samples);
      return second.binaries.length > 0 || undefined;
    });
    expect(phone.listeners()).toBe(1);
    second.socket.send(encodeAudioFrame({ kind: 'capture', sequence: 2, callId: 'call-1', samples }));
    await until(() => phone.captured.length === 2);
  });

  it('still answers JSON requests beside the audio, and counts text that is no request', async () => {
    const { bridge, connect } = await start();
    const client = connect();
    await client.opened;
    client.socket.send('{not json');
    client.socket.send(JSON.stringify({ type: 'request', id: 'x', command: 'snapshot', args: [] }));
    client.socket.send(JSON.stringify({ type: 'request', id: 7, command: 'snapshot', args: [] }));
    client.socket.send(JSON.stringify({ type: 'request', id: 8, command: 'updateAccount', args: [{ id: 'x', user: 'bad user', server: 'sip:h', transport: 'udp' }] }));
    await until(() => client.texts.filter((t) => t.type === 'result').length === 2);
    expect(client.texts.find((t) => t.id === 7)).toMatchObject({ ok: true, value: { calls: [] } });
    expect(client.texts.find((t) => t.id === 8)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(bridge.rejected()).toEqual({ BAD_JSON: 1, BAD_REQUEST: 1 });
  });

  it('closes only the connection that sent a bad frame (invalid UTF-8, over the size limit); the call another connection placed goes on', async () => {
    const lab = await Lab.start({ timers: { t1: 100, t2: 400 } });
    cleanup.push(() => lab.stop());
    const phone = (user: string): Phone => {
      const p = new Phone({
        accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, answer: { kind: 'auto' } }],
        createSessionDescriptionHandlerFactory: defaultMediaProvider,
        timers: { t1: 100, t2: 400 },
      });
      cleanup.push(() => p.shutdown());
      return p;
    };
    const alice = phone('alice');
    const bob = phone('bob');
    await Promise.all([alice.register(), bob.register()]);
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const origin = `http://127.0.0.1:${port}`;
    const bridge = attachPhoneWsBridge({ server, api: alice, token: 'tok', origins: () => [origin] });
    cleanup.push(() => new Promise<void>((resolve) => (bridge.wss.close(), server.close(() => resolve()), server.closeAllConnections())));

    // The UI's connection places a call.
    const ui = new WebSocket(`ws://127.0.0.1:${port}/api?token=tok`, { origin });
    cleanup.push(() => ui.close());
    const texts: Array<Record<string, unknown>> = [];
    ui.on('message', (data, isBinary) => void (isBinary || texts.push(JSON.parse(String(data)))));
    await new Promise<void>((resolve, reject) => (ui.once('open', () => resolve()), ui.once('error', reject)));
    const request = async (id: number, command: string, args: unknown[]): Promise<Record<string, unknown>> => {
      ui.send(JSON.stringify({ type: 'request', id, command, args }));
      return until(() => texts.find((t) => t.type === 'result' && t.id === id), 10_000);
    };
    const placed = (await request(1, 'call', [{ target: 'bob' }])) as { ok: boolean; value: { id: string } };
    expect(placed.ok).toBe(true);
    const callState = (): unknown => {
      const events = texts.filter((t) => t.type === 'event' && (t.event as { type: string }).type === 'call');
      const mine = events.map((t) => (t.event as { call: { id: string; state: string } }).call).filter((c) => c.id === placed.value.id);
      return mine.at(-1)?.state;
    };
    await until(() => callState() === 'established', 10_000);

    // Two other connections send frames a browser never would, written byte by byte.
    const badUtf8 = await rawWebSocket({ port, path: '/api?token=tok', origin });
    expect(badUtf8.status).toBe('HTTP/1.1 101 Switching Protocols');
    badUtf8.write(clientFrame(0x1, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d])));
    const tooLarge = await rawWebSocket({ port, path: '/api?token=tok', origin });
    tooLarge.write(clientFrame(0x2, Buffer.alloc(16), { declaredLength: 1 << 23 }));
    await Promise.all([badUtf8.closed, tooLarge.closed]);
    expect(badUtf8.closeCode()).toBe(1007); // RFC 6455 §7.4.1: data inconsistent with the message type
    expect(tooLarge.closeCode()).toBe(1009); // message too big
    expect(bridge.rejected()).toEqual({ WS_ERR_INVALID_UTF8: 1, WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1 });

    // The UI's connection and its call are untouched: the phone answers, the call is still up, and it hangs up.
    expect(ui.readyState).toBe(WebSocket.OPEN);
    const snapshot = (await request(2, 'snapshot', [])) as { value: { calls: Array<{ id: string; state: string }> } };
    expect(snapshot.value.calls.find((c) => c.id === placed.value.id)?.state).toBe('established');
    expect((await request(3, 'hangup', [placed.value.id])).ok).toBe(true);
    await until(() => callState() === 'terminated', 10_000);
  }, 30_000);
});
