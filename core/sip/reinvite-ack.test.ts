import { describe, expect, it } from 'vitest';
import { memoryLabStarter } from '../../test/support/memory-lab.js';
import { establishedCallScenario } from '../../test/support/lab-scenario-text.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { parseScenario } from '../scenario/load-scenario.js';
import type { ScenarioReport } from '../scenario/scenario-report.js';
import { runScenario } from '../scenario/scenario-runner.js';

/** The first line and CSeq of every message an agent sent or received, in order. */
function ladder(report: ScenarioReport, agent: string): Array<{ dir: string; line: string; cseq: string }> {
  return [...report.agents[agent]!.trace].map((e) => ({ dir: e.dir, line: e.raw.slice(0, e.raw.indexOf('\r\n')), cseq: /\r\nCSeq: *([^\r]*)/i.exec(e.raw)?.[1] ?? '' }));
}

/**
 * RFC 3261 §13.3.1.4 and RFC 6026 §8.1: a UAS retransmits a 2xx until the ACK *for that response* arrives. Two calls'
 * worth of holds and resumes through the lab, where the network loses the first copy of chosen ACKs on their way to
 * the callee (tools/postinstall/sipjs-reinvite-ack-matching.js).
 */
describe('the ACK of a re-INVITE 2xx (sip.js patched)', () => {
  async function holdsAndResumes(lose: (cseq: string) => boolean): Promise<ScenarioReport> {
    const network = new MemoryNetwork();
    const deliver = network.deliverDatagram.bind(network);
    const lost = new Set<string>();
    network.deliverDatagram = (data, from, to) => {
      const text = data.toString('latin1');
      const cseq = /\r\nCSeq: *([^\r]*)/i.exec(text)?.[1] ?? '';
      // an ACK the lab forwards to the callee carries the lab's Via above the caller's: its first copy is lost
      const fromLab = (text.match(/\r\nVia:/gi) ?? []).length === 2;
      if (text.startsWith('ACK ') && fromLab && lose(cseq) && !lost.has(cseq)) {
        lost.add(cseq);
        return;
      }
      deliver(data, from, to);
    };
    const scenario = parseScenario(establishedCallScenario(['hold: { call: c1 }', 'resume: { call: c1 }', 'hold: { call: c1 }', 'resume: { call: c1 }', 'wait: 1200ms', 'hangup: { call: c1 }'], ['timeout: 60s']));
    return runScenario(scenario, { startLab: memoryLabStarter(network), sockets: network, createSessionDescriptionHandlerFactory: () => staticSdhFactory(), timers: { t1: 100, t2: 400 } });
  }

  /** The 2xx bob sent for a CSeq after he had received its ACK: a retransmission that should not have been. */
  function retransmittedAfterAck(report: ScenarioReport): string[] {
    const acked = new Set<string>();
    const late: string[] = [];
    for (const { dir, line, cseq } of ladder(report, 'bob')) {
      if (dir === 'in' && line.startsWith('ACK ')) acked.add(cseq.split(' ')[0]!);
      if (dir === 'out' && line.startsWith('SIP/2.0 200') && cseq.endsWith(' INVITE') && acked.has(cseq.split(' ')[0]!)) late.push(cseq);
    }
    return late;
  }

  it('takes a re-INVITE\'s ACK as that re-INVITE\'s while the initial ACK is still missing: its 2xx stops at once, and the next re-INVITE is answered 200', async () => {
    const report = await holdsAndResumes((cseq) => cseq === '1 ACK');
    expect(report.ok, JSON.stringify(report.steps.filter((s) => !s.ok))).toBe(true);
    expect(retransmittedAfterAck(report)).toEqual([]);
    expect(ladder(report, 'bob').filter((m) => m.dir === 'out' && m.line.startsWith('SIP/2.0 500'))).toEqual([]);
  }, 60_000);

  it('retransmits each re-INVITE\'s 2xx until its own ACK, not while another re-INVITE is pending', async () => {
    const report = await holdsAndResumes((cseq) => cseq === '3 ACK');
    expect(report.ok, JSON.stringify(report.steps.filter((s) => !s.ok))).toBe(true);
    expect(retransmittedAfterAck(report)).toEqual([]);
  }, 60_000);
});
