import type { SipCall } from '../../core/sip/sip-call.js';
import { SipIdentity } from '../../core/sip/sip-identity.js';
import type { SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import type { MemoryNetwork } from './memory-network.js';
import { pcmuSdp, ScriptPeer, type SipResponseMessage } from './script-peer.js';
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

/** What a request of the peer (the carrier) says; unset fields are those of a new call to bob. */
export interface PeerRequest {
  method: string;
  callId: string;
  /** Its Request-URI. */
  uri: string;
  /** Default: the Call-ID. */
  branch?: string;
  /** Default: the carrier, tag `f-<Call-ID>`. */
  from?: string;
  /** Default: bob, no tag (outside a dialog). */
  to?: string;
  /** Default: 17. */
  cseq?: number;
  /** The user of its Contact (default: carrier). */
  contactUser?: string;
  headers?: string[];
  /** An SDP body, or none when '' (the default). */
  body?: string;
}

/** A request from the peer to the identity, as PeerRequest says. */
export function requestFromPeer(peer: ScriptPeer, request: PeerRequest): string {
  const body = request.body ?? '';
  return [
    `${request.method} ${request.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.endpoint.port};branch=z9hG4bK-${request.branch ?? request.callId}`,
    'Max-Forwards: 70',
    `From: ${request.from ?? `<sip:carrier@127.0.0.1>;tag=f-${request.callId}`}`,
    `To: ${request.to ?? '<sip:bob@127.0.0.1>'}`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.cseq ?? 17} ${request.method}`,
    `Contact: <sip:${request.contactUser ?? 'carrier'}@127.0.0.1:${peer.endpoint.port}>`,
    ...(request.headers ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** An INVITE from the peer (carrier) to the identity, CSeq 17, with `headers` and an SDP offer (none when `body` is ''). */
export function inviteFromPeer(peer: ScriptPeer, identity: SipIdentity, callId: string, headers: string[], body = pcmuSdp(40000)): string {
  return requestFromPeer(peer, { method: 'INVITE', uri: bobAt(identity), callId, headers, body });
}

/** bob at the identity's port: the Request-URI of a request outside a dialog. */
export function bobAt(identity: SipIdentity): string {
  return `sip:bob@127.0.0.1:${identity.local.port}`;
}

/** A request of the peer in the dialog our 2xx `ok` made (the peer called us): to its Contact, with its From and To. */
export function inDialogFromPeer(peer: ScriptPeer, ok: SipResponseMessage, request: Omit<PeerRequest, 'callId' | 'uri' | 'from' | 'to'> & { cseq: number; branch: string }): string {
  return requestFromPeer(peer, { ...request, callId: ok.callId, uri: ok.get('contact')!.replace(/^<|>.*$/g, ''), from: ok.get('from')!, to: ok.get('to')! });
}
