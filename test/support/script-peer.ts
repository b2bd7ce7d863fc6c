import { parseSipMessage, type SipMessage } from '../../core/sip/message/index.js';
import type { Endpoint } from '../../core/sip/transport/endpoint.js';
import type { SipDatagramSocket } from '../../core/sip/transport/sip-sockets.js';
import type { MemoryNetwork } from './memory-network.js';
import { until } from './until.js';

export type SipRequestMessage = Extract<SipMessage, { kind: 'request' }>;
export type SipResponseMessage = Extract<SipMessage, { kind: 'response' }>;

/**
 * A hand-driven SIP peer on the in-memory network: a test sends exactly the messages it wants and reads what came, so
 * it can play a carrier that requires 100rel or sends early media. It answers REGISTER 200 by itself.
 */
export class ScriptPeer {
  readonly received: SipMessage[] = [];
  /** Answer REGISTER 200 by itself (true by default); false leaves REGISTERs to the test, in `received`. */
  answersRegister = true;

  private constructor(readonly socket: SipDatagramSocket) {
    socket.onMessage = (data) => {
      const message = parseSipMessage(data);
      if (message.kind === 'request' && message.method === 'REGISTER' && this.answersRegister) {
        void this.reply(message, 200, 'OK', [`Contact: ${message.get('contact')};expires=60`]);
        return;
      }
      this.received.push(message);
    };
  }

  static async open(network: MemoryNetwork): Promise<ScriptPeer> {
    return new ScriptPeer(await network.bindUdp({ address: '127.0.0.1', port: 0 }));
  }

  get endpoint(): Endpoint {
    return this.socket.local;
  }

  get uri(): string {
    return `sip:127.0.0.1:${this.socket.local.port}`;
  }

  send(text: string, to: Endpoint): Promise<void> {
    return this.socket.send(text, to);
  }

  /** The first message not yet taken that `match` accepts, taken off the list. */
  async take<T extends SipMessage>(match: (m: SipMessage) => m is T, ms?: number): Promise<T>;
  async take(match: (m: SipMessage) => boolean, ms?: number): Promise<SipMessage>;
  async take(match: (m: SipMessage) => boolean, ms = 5000): Promise<SipMessage> {
    const found = await until(() => this.received.find(match), ms);
    this.received.splice(this.received.indexOf(found), 1);
    return found;
  }

  request(method: string): (m: SipMessage) => m is SipRequestMessage {
    return (m): m is SipRequestMessage => m.kind === 'request' && m.method === method;
  }

  response(status: number, method = 'INVITE'): (m: SipMessage) => m is SipResponseMessage {
    return (m): m is SipResponseMessage => m.kind === 'response' && m.status === status && m.cseq.method === method;
  }

  /** Answer a request that came to us, back along its Via (`toTag` for a dialog). */
  reply(request: SipRequestMessage, status: number, reason: string, headers: string[] = [], body = '', toTag?: string): Promise<void> {
    const via = request.topVia!;
    const to = request.get('to')!;
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...request.getAll('via').map((v) => `Via: ${v}`),
      `From: ${request.get('from')}`,
      `To: ${toTag && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to}`,
      `Call-ID: ${request.callId}`,
      `CSeq: ${request.get('cseq')}`,
      ...headers,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    return this.send(lines.join('\r\n'), { address: via.host, port: via.port ?? 5060 });
  }
}

/** An SDP answer or offer for plain PCMU audio at `port` on loopback. */
export function pcmuSdp(port: number, version = 1): string {
  return ['v=0', `o=peer 1 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
}
