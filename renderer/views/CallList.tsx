import type { CallSnapshot } from '../../core/api/phone-types.js';
import { usePhone } from '../store/phone-store.js';
import { TransferControl } from './TransferControl.js';
import { useT } from './use-t.js';
import { WaitingCallActions } from './WaitingCallActions.js';

/**
 * Every call besides the one in the main card: a call waiting (answer and hold the current one, answer and end it,
 * reject), a held call (swap to it, hang it up), a call being placed. Also the transfer control of the main call.
 */
export function CallList({ focused, calls }: { focused: CallSnapshot; calls: readonly CallSnapshot[] }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  const others = calls.filter((c) => c.id !== focused.id);
  const party = (call: CallSnapshot): string => (call.remote.anonymous ? t('anonymous') : call.remote.shown);
  return (
    <section className="call-list" aria-label={t('otherCalls')}>
      <TransferControl call={focused} others={others} />
      {others.length > 0 && (
        <ul>
          {others.map((call) => (
            <li key={call.id} className={`call-row call-row-${call.state}${call.localHold ? ' call-row-held' : ''}`} data-call={call.id} aria-label={party(call)}>
              <bdi className="party">{party(call)}</bdi>{' '}
              <span className="call-row-state">{call.state === 'incoming' ? t('waitingCall') : call.localHold ? t('held') : t(call.state)}</span>
              <span className="call-controls">
                {call.state === 'incoming' ? (
                  <WaitingCallActions call={call} />
                ) : (
                  <>
                    {call.state === 'established' && call.localHold && (
                      // resuming a held call holds the one that talks (PhoneApi.hold): a swap
                      <button type="button" onClick={() => void run((api) => api.hold(call.id, false))}>
                        {t('swapTo')}
                      </button>
                    )}
                    <button type="button" className="hangup" onClick={() => void run((api) => api.hangup(call.id))}>
                      {t('hangup')}
                    </button>
                  </>
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
