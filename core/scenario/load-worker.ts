/**
 * A load worker: a thread of `veilphone run` that places part of a `load` step's calls (SPEC G) from a phone of its
 * own, so that a load uses more than one core, like SIPp run as several instances. It is started by load-workers.ts
 * with the calling agent's account and places a call each time it is told to; its calls go to the run's call log
 * through a relay. Its phone does not register: calls from an account need no registration, and a second Contact
 * for the agent's address of record would make the proxy fork the calls made to it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CallLogRelay } from '../calllog/call-recorder.js';
import { mediaWithoutRecentAudio } from '../phone/default-media.js';
import { Phone } from '../phone/phone.js';
import { errorCode, type LoadCallProgress } from './call-load.js';
import { LoadCaller } from './load-caller.js';
import type { FromLoadWorker, LoadWorkerData, ToLoadWorker } from './load-worker-protocol.js';

function runLoadWorker(port: NonNullable<typeof parentPort>, data: LoadWorkerData): void {
  const post = (message: FromLoadWorker): void => port.postMessage(message);
  const relay = new CallLogRelay((writes) => post({ kind: 'log', writes }));
  let phone: Phone;
  try {
    phone = new Phone({
      accounts: [data.account],
      maxCalls: data.maxCalls,
      // a load's calls are counted, never listened to (an `expect` with `audio` names a call of a `call` step)
      createSessionDescriptionHandlerFactory: mediaWithoutRecentAudio,
      callRecorder: relay,
      ...(data.timers ? { timers: data.timers } : {}),
      ...(data.dataDir !== undefined ? { dataDir: data.dataDir } : {}),
    });
  } catch (error) {
    post({ kind: 'failed', message: (error as Error).message });
    return;
  }
  const caller = new LoadCaller(phone, data.caller);
  port.on('message', (message: ToLoadWorker) => {
    if (message.kind === 'place') {
      const call = message.call;
      const progress: LoadCallProgress = { answered: (setupMs, status) => post({ kind: 'answered', call, ...(setupMs !== undefined ? { setupMs } : {}), ...(status !== undefined ? { status } : {}) }) };
      void caller
        .place(progress)
        .catch((error: unknown) => ({ established: false, error: errorCode(error) }))
        .then((outcome) => post({ kind: 'done', call, outcome }));
      return;
    }
    // After a load its calls are over; a load cut by its scenario's timeout still has some, and shutdown hangs them
    // up. Whatever happens, the relay hands over what it holds and the worker says it stopped.
    void (async () => {
      try {
        await phone.shutdown();
      } finally {
        caller.close();
        relay.flush();
        post({ kind: 'stopped' });
        port.close();
      }
    })().catch(() => undefined); // a phone that cannot shut down cleanly still stops: its sockets go with the thread
  });
  post({ kind: 'ready' });
}

if (parentPort) runLoadWorker(parentPort, workerData as LoadWorkerData);
