import { usePhone, type PhoneView } from '../store/phone-store.js';
import { Icon } from './icons.js';
import { useT } from './use-t.js';

const tabs: PhoneView[] = ['phone', 'history', 'settings'];

/** The narrow window's views, one at a time: the phone (dialer or call), the history, the settings. */
export function TabBar() {
  const t = useT();
  const view = usePhone((s) => s.view);
  const setView = usePhone((s) => s.setView);
  const inCall = usePhone((s) => Object.values(s.calls).some((c) => c.state !== 'incoming'));
  return (
    <nav className="tab-bar" role="tablist" aria-label={t('tabs')}>
      {tabs.map((tab) => (
        <button key={tab} type="button" role="tab" id={`tab-${tab}`} aria-selected={view === tab} aria-controls="view" className={`tab tab-${tab}`} onClick={() => setView(tab)}>
          <Icon name={tab} />
          <span className="tab-label">{t(`tab_${tab}`)}</span>
          {tab === 'phone' && inCall && view !== 'phone' && <span className="tab-badge" aria-label={t('inCall')} />}
        </button>
      ))}
    </nav>
  );
}
