import type { CallSnapshot } from '../../core/api/phone-types.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/** A call waiting beside one that is up: answer it holding or ending that one, or reject it (busy). */
export function WaitingCallActions({ call }: { call: CallSnapshot }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  return (
    <>
      <button type="button" className="answer" onClick={() => void run((api) => api.answer(call.id, 'hold'))}>
        {t('answerHold')}
      </button>
      <button type="button" onClick={() => void run((api) => api.answer(call.id, 'hangup'))}>
        {t('answerEnd')}
      </button>
      <button type="button" className="hangup" onClick={() => void run((api) => api.reject(call.id, 486))}>
        {t('reject')}
      </button>
    </>
  );
}
