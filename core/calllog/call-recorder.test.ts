import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { CallLogStore } from './call-log-store.js';
import { applyCallLogWrites, CallLogRelay, type CallLogWrite } from './call-recorder.js';

function entry(dir: 'in' | 'out', raw: string): SipTapEntry {
  return { dir, at: 1000, transport: 'udp', local: '127.0.0.1:5070', remote: '127.0.0.1:5060', raw };
}

describe('CallLogRelay', () => {
  it('hands one batch per event-loop turn, in order, and writes nothing itself', async () => {
    const batches: CallLogWrite[][] = [];
    const relay = new CallLogRelay((writes) => batches.push(writes));
    relay.startCall({ id: 'c1', accountId: 'alice', direction: 'outgoing', sipCallId: 'abc', remoteShown: 'bob', remoteUri: 'sip:bob@x', remoteAnonymous: false, startedAt: 1000 });
    relay.appendMessage('c1', entry('out', 'INVITE sip:bob@x SIP/2.0'));
    relay.updateCall('c1', { status: 200, answeredAt: 1500 });
    expect(batches).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches.map((batch) => batch.map((w) => w.op))).toEqual([['start', 'message', 'update']]);
    relay.updateCall('c1', { endedAt: 2500, endedBy: 'local', result: 'answered' });
    relay.flush(); // a stopping worker hands over what is left at once
    expect(batches).toHaveLength(2);
    relay.flush();
    expect(batches).toHaveLength(2);
  });

  it('gets a worker thread\'s calls into the log across a message port, with their messages and their secrets masked', async () => {
    const store = CallLogStore.open(':memory:');
    const { port1, port2 } = new MessageChannel();
    const applied = new Promise<void>((resolve) =>
      port2.on('message', (writes: CallLogWrite[]) => {
        applyCallLogWrites(store, writes);
        if (writes.some((w) => w.op === 'update' && w.update.endedAt !== undefined)) resolve();
      }),
    );
    const relay = new CallLogRelay((writes) => port1.postMessage(writes));
    relay.startCall({ id: 'c1', accountId: 'alice', direction: 'outgoing', sipCallId: 'abc', remoteShown: 'bob', remoteUri: 'sip:bob@x', remoteAnonymous: false, startedAt: 1000 });
    relay.appendMessage('c1', entry('out', 'INVITE sip:bob@x SIP/2.0\r\nContent-Type: application/sdp\r\n\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n'));
    relay.updateCall('c1', { status: 200, answeredAt: 1500 });
    await new Promise((resolve) => setImmediate(resolve));
    relay.updateCall('c1', { endedAt: 2500, endedBy: 'local', result: 'answered' });
    await applied;
    store.flush();
    const call = store.getCall('c1')!;
    expect(call).toMatchObject({ accountId: 'alice', status: 200, result: 'answered', durationMs: 1000 });
    expect(call.messages).toHaveLength(1);
    expect(call.messages[0]!.raw).not.toContain('WVNfX19zZW1jdGwg');
    port1.close();
    store.close();
  });
});
