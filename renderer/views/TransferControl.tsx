import { useState } from 'react';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/** A sentence around a party's name, the name in an isolate of its own (<bdi>): right-to-left text stays within it. */
function withParty(sentence: string, party: string) {
  const [before, after = ''] = sentence.split('{party}');
  return (
    <>
      {before}
      <bdi>{party}</bdi>
      {after}
    </>
  );
}

/**
 * Transfer of the call in the main card: blind to a typed number (REFER), a consultation call first (the main call is
 * held), or — once a consultation call talks — connecting a held caller to it (REFER with Replaces, attended).
 */
export function TransferControl({ call, others }: { call: CallSnapshot; others: readonly CallSnapshot[] }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState('');
  const established = call.state === 'established';
  // the held calls whose peer can be handed to the main call's peer (attended transfer)
  const held = others.filter((c) => c.state === 'established' && c.localHold);
  const status = call.transfer;
  const party = (c: CallSnapshot): string => (c.remote.anonymous ? t('anonymous') : c.remote.shown);
  return (
    <div className="transfer">
      {status && (
        <p className="call-detail transfer-status" role="status">
          {t(`transfer_${status.state}`)}
          {status.status !== undefined && status.state === 'failed' ? ` (${status.status})` : ''}
        </p>
      )}
      {established &&
        held.map((other) => (
          <button key={other.id} type="button" className="connect" onClick={() => void run((api) => api.transfer(other.id, { replaces: call.id }))}>
            {withParty(t('connectTo'), party(other))}
          </button>
        ))}
      {established && (
        <button type="button" aria-expanded={open} aria-controls={`transfer-${call.id}`} onClick={() => setOpen(!open)}>
          {t('transfer')}
        </button>
      )}
      {open && established && (
        <form
          id={`transfer-${call.id}`}
          className="transfer-form"
          onSubmit={(event) => {
            event.preventDefault();
            const to = target.trim();
            if (to.length === 0) return;
            void run(async (api) => {
              await api.transfer(call.id, { to });
              setOpen(false);
              setTarget('');
            });
          }}
        >
          <input aria-label={t('transferTarget')} value={target} maxLength={256} onChange={(event) => setTarget(event.target.value)} />
          <button type="submit">{t('transferBlind')}</button>
          <button
            type="button"
            onClick={() => {
              const to = target.trim();
              if (to.length === 0) return;
              void run(async (api) => {
                await api.hold(call.id, true);
                await api.call({ target: to, accountId: call.accountId });
                setOpen(false);
                setTarget('');
              });
            }}
          >
            {t('consult')}
          </button>
        </form>
      )}
    </div>
  );
}
