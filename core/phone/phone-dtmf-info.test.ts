import { afterEach, describe, expect, it } from 'vitest';
import { PhoneError } from '../api/phone-error.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { pcmuSdp, ScriptPeer, type SipRequestMessage } from '../../test/support/script-peer.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';

/**
 * DTMF as SIP INFO, one digit per INFO: the next INFO goes only once the last one is answered. In flight together they
 * can overtake each other through a proxy with several workers, and the peer refuses the one whose CSeq is below one
 * it already took (RFC 3261 §12.2.2: 500); baresip behind Kamailio lost digits so.
 */
describe('DTMF as SIP INFO', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const established = async () => {
    const peer = await ScriptPeer.open(network);
    cleanup.push(() => peer.socket.close());
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', server: peer.uri, transport: 'udp' }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers: { t1: 100, t2: 400 },
      sockets: network,
    });
    cleanup.push(() => alice.shutdown());
    await alice.register();
    const call = await alice.call({ target: 'bob' });
    const invite = await peer.take(peer.request('INVITE'));
    await peer.reply(invite, 200, 'OK', [`Contact: <sip:bob@127.0.0.1:${peer.endpoint.port}>`], pcmuSdp(40000), 'b1');
    await peer.take(peer.request('ACK'));
    return { peer, alice, call };
  };
  const signal = (info: SipRequestMessage) => /^Signal=(.)/m.exec(info.body)?.[1];

  it('sends the digits one INFO at a time, each after the answer to the one before, in order', async () => {
    const { peer, alice, call } = await established();
    const sending = alice.sendDtmf(call.id, '#7*', 'info');
    const first = await peer.take(peer.request('INFO'));
    expect(signal(first)).toBe('#');
    // unanswered, the first INFO is retransmitted (the same CSeq) but no second one is sent beside it
    const again = await peer.take(peer.request('INFO'), 2000);
    expect(again.get('cseq')).toBe(first.get('cseq'));
    await peer.reply(first, 200, 'OK', [], '', 'b1');
    const second = await peer.take((m): m is SipRequestMessage => peer.request('INFO')(m) && m.get('cseq') !== first.get('cseq'));
    expect(signal(second)).toBe('7');
    await peer.reply(second, 200, 'OK', [], '', 'b1');
    const third = await peer.take((m): m is SipRequestMessage => peer.request('INFO')(m) && m.get('cseq') !== first.get('cseq') && m.get('cseq') !== second.get('cseq'));
    expect(signal(third)).toBe('*');
    await peer.reply(third, 200, 'OK', [], '', 'b1');
    await sending;
  });

  it('stops at a digit the peer refuses, with a typed error naming it and the status', async () => {
    const { peer, alice, call } = await established();
    const sending = alice.sendDtmf(call.id, '12', 'info');
    const first = await peer.take(peer.request('INFO'));
    await peer.reply(first, 415, 'Unsupported Media Type', [], '', 'b1');
    const error = await sending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhoneError);
    expect(error).toMatchObject({ code: 'CALL_FAILED', message: 'the INFO for DTMF "1" was answered 415' });
    expect(peer.received.filter((m) => m.kind === 'request' && m.method === 'INFO' && signal(m) === '2')).toEqual([]);
  });
});
