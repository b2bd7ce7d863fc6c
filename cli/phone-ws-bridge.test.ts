import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { PhoneAudioPort } from '../core/api/audio-port.js';
import { decodeAudioFrame, encodeAudioFrame } from '../core/api/audio-wire.js';
import type { PhoneApi } from '../core/api/phone-api.js';
import type { PhoneEvent } from '../core/api/phone-types.js';
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

const until = async (probe: () => boolean, ms = 3000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

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

  it('still answers JSON requests beside the audio', async () => {
    const { connect } = await start();
    const client = connect();
    await client.opened;
    client.socket.send(JSON.stringify({ type: 'request', id: 7, command: 'snapshot', args: [] }));
    client.socket.send(JSON.stringify({ type: 'request', id: 8, command: 'updateAccount', args: [{ id: 'x', user: 'bad user', server: 'sip:h', transport: 'udp' }] }));
    await until(() => client.texts.filter((t) => t.type === 'result').length === 2);
    expect(client.texts.find((t) => t.id === 7)).toMatchObject({ ok: true, value: { calls: [] } });
    expect(client.texts.find((t) => t.id === 8)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });
});
