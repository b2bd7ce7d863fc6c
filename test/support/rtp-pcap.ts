import { encodeG711 } from '../../core/media/g711.js';
import { DtmfSender } from '../../core/media/dtmf.js';
import { ToneSource } from '../../core/media/audio-frame.js';
import { serializeRtp } from '../../core/media/rtp-packet.js';
import { udpFramesToPcap } from '../../core/calllog/pcap-export.js';

/**
 * A pcap of one RTP stream for SIPp's `play_pcap_audio`: `toneMs` of a PCMU sine tone, then the given digits as
 * RFC 4733 events (payload type `dtmfPt`), 20 ms apart. SIPp rewrites the addresses; what it replays is the RTP.
 */
export function rtpPcap(options: { toneHz: number; toneMs: number; digits: string; dtmfPt: number }): Buffer {
  const frames = [];
  const tone = new ToneSource(options.toneHz, 9000);
  const pcm = new Int16Array(160);
  const dtmf = new DtmfSender(100, 60);
  dtmf.enqueue(options.digits);
  let sequence = 1000;
  let timestamp = 160_000;
  let at = 1_700_000_000_000_000;
  const src = { address: '10.0.0.1', port: 6000, family: 4 as const };
  const dst = { address: '10.0.0.2', port: 6002, family: 4 as const };
  for (let tick = 0; ; tick++) {
    let packet;
    if (tick * 20 < options.toneMs) {
      tone.read(pcm);
      packet = { marker: tick === 0, payloadType: 0, sequence, timestamp, ssrc: 0x5151, payload: encodeG711('PCMU', pcm) };
    } else {
      const event = dtmf.tick(timestamp);
      if (!event && !dtmf.busy) break;
      packet = event
        ? { marker: event.marker, payloadType: options.dtmfPt, sequence, timestamp: event.timestamp, ssrc: 0x5151, payload: event.payload }
        : { marker: false, payloadType: 0, sequence, timestamp, ssrc: 0x5151, payload: new Uint8Array(160).fill(0xff) };
    }
    frames.push({ atMicros: at, src, dst, payload: serializeRtp(packet) });
    sequence++;
    timestamp += 160;
    at += 20_000;
  }
  return udpFramesToPcap(frames);
}
