import { describe, expect, it } from 'vitest';
import type { SipFlow } from './sip-flow.js';
import { SipJsTransport } from './sipjs-transport.js';

/** A connection flow that is open until closed. */
function fakeFlow(): SipFlow & { closed: boolean } {
  const flow = {
    transport: 'tcp' as const,
    local: { address: '127.0.0.1', port: 5070 },
    send: async () => undefined,
    onData: () => undefined,
    onClose: () => undefined,
    closed: false,
    close: async () => void (flow.closed = true),
    get connected() {
      return !flow.closed;
    },
  };
  return flow;
}

describe('SipJsTransport opening its flow again', () => {
  it('opens once however many ask at the same time, and gives up a flow that opened after a disconnect', async () => {
    const opened: Array<SipFlow & { closed: boolean }> = [];
    const pending: Array<() => void> = [];
    const transport = new SipJsTransport(undefined, {
      flow: fakeFlow(),
      server: { address: '127.0.0.1', port: 5060 },
      reopen: () =>
        new Promise<SipFlow>((resolve) => {
          const flow = fakeFlow();
          opened.push(flow);
          pending.push(() => resolve(flow));
        }),
    });
    await transport.connect(); // on the flow it was made with
    expect(opened).toHaveLength(0);
    await transport.disconnect(); // the server dropped it
    const both = Promise.all([transport.connect(), transport.connect()]);
    expect(opened).toHaveLength(1);
    pending.shift()!();
    await both;
    expect(transport.isConnected()).toBe(true);

    await transport.disconnect();
    const late = transport.connect();
    await transport.disconnect(); // the identity is disposed while the connection opens
    pending.shift()!();
    await expect(late).rejects.toThrow(/disconnected while connecting/);
    expect(opened[1]!.closed).toBe(true); // nothing owns it: closed, not left open to the server
    expect(transport.isConnected()).toBe(false);
  });
});
