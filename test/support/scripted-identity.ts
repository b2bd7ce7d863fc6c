import type { SipCall } from '../../core/sip/sip-call.js';
import { SipIdentity } from '../../core/sip/sip-identity.js';
import type { SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import type { MemoryNetwork } from './memory-network.js';
import { pcmuSdp, ScriptPeer } from './script-peer.js';
import { staticSdhFactory } from './static-sdh.js';

/**
 * A SipIdentity (bob at 127.0.0.1, fixed SDP, no media) whose server is a ScriptPeer on the in-memory network, and the
 * calls offered to it: the peer plays a carrier or a proxy, message by message. Both go at `cleanup`.
 */
export async function identityFacingPeer(network: MemoryNetwork, cleanup: Array<() => Promise<void> | void>, timers: SipTimerValues): Promise<{ peer: ScriptPeer; identity: SipIdentity; incoming: SipCall[] }> {
  const peer = await ScriptPeer.open(network);
  cleanup.push(() => peer.socket.close());
  const incoming: SipCall[] = [];
  const identity = await SipIdentity.create({
    aor: { user: 'bob', domain: '127.0.0.1' },
    transport: 'udp',
    local: { address: '127.0.0.1', port: 0 },
    server: peer.endpoint,
    sessionDescriptionHandlerFactory: staticSdhFactory(),
    sockets: network,
    timers,
    onIncomingCall: (call) => incoming.push(call),
  });
  cleanup.push(() => identity.dispose({ serverGone: true }));
  return { peer, identity, incoming };
}

/** An INVITE from the peer (carrier) to the identity, CSeq 17, with `headers` and an SDP offer (none when `body` is ''). */
export function inviteFromPeer(peer: ScriptPeer, identity: SipIdentity, callId: string, headers: string[], body = pcmuSdp(40000)): string {
  return [
    `INVITE sip:bob@127.0.0.1:${identity.local.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.endpoint.port};branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    `From: <sip:carrier@127.0.0.1>;tag=f-${callId}`,
    'To: <sip:bob@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 17 INVITE',
    `Contact: <sip:carrier@127.0.0.1:${peer.endpoint.port}>`,
    ...headers,
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
