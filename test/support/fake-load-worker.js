// A stand-in for core/scenario/load-worker.ts in unit tests of the pool (core/scenario/load-workers.test.ts): it
// speaks the same messages without a phone. workerData: { dieOn?: call number, answerThenDieOn?: call number,
// silentOn?: call number (never answers it), hangOnStop?: boolean, failToStart?: boolean, log?: boolean }.
import { parentPort, workerData } from 'node:worker_threads';

const script = workerData ?? {};
const port = parentPort;
if (script.failToStart) {
  port.postMessage({ kind: 'failed', message: 'no phone for you' });
} else {
  port.on('message', (message) => {
    if (message.kind === 'place') {
      const { call } = message;
      if (call === script.dieOn) process.exit(3);
      if (call === script.silentOn) return;
      port.postMessage({ kind: 'answered', call, setupMs: 5 });
      if (call === script.answerThenDieOn) process.exit(3);
      if (script.log) port.postMessage({ kind: 'log', writes: [{ op: 'start', call: { id: `c${call}`, accountId: 'alice', direction: 'outgoing', sipCallId: `s${call}`, remoteShown: 'bob', remoteUri: 'sip:bob@x', remoteAnonymous: false, startedAt: 1000 } }, { op: 'update', id: `c${call}`, update: { status: 200, answeredAt: 1005, endedAt: 2005, endedBy: 'local', result: 'answered' } }] });
      port.postMessage({ kind: 'done', call, outcome: { established: true, status: 200, setupMs: 5 } });
      return;
    }
    if (script.hangOnStop) return;
    port.postMessage({ kind: 'stopped' });
    port.close();
  });
  port.postMessage({ kind: 'ready' });
}
