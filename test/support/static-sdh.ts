import type { SessionDescriptionHandler, SessionDescriptionHandlerFactory } from 'sip.js';

/**
 * A SessionDescriptionHandler with a fixed SDP and no media, for SIP signaling tests that must not depend on
 * core/media. It records the directions it was asked for so hold tests can check the offers.
 */
export function staticSdhFactory(address = '127.0.0.1', log: string[] = []): SessionDescriptionHandlerFactory {
  return () => {
    let version = 0;
    const handler: SessionDescriptionHandler = {
      close: () => undefined,
      hasDescription: (contentType) => contentType === 'application/sdp',
      setDescription: async (sdp) => {
        if (!sdp.startsWith('v=0')) throw new Error('not SDP');
        log.push(`remote:${/a=(sendrecv|sendonly|recvonly|inactive)/.exec(sdp)?.[1] ?? 'sendrecv'}`);
      },
      getDescription: async (options) => {
        const hold = (options as { hold?: boolean } | undefined)?.hold === true;
        const direction = hold ? 'sendonly' : 'sendrecv';
        log.push(`local:${direction}`);
        version++;
        const body = ['v=0', `o=- 1 ${version} IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', `a=${direction}`, ''].join('\r\n');
        return { body, contentType: 'application/sdp' };
      },
      sendDtmf: () => false,
    };
    return handler;
  };
}
