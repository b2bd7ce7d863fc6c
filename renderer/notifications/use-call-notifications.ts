import { useEffect, useRef } from 'react';
import { translate } from '../i18n/strings.js';
import { usePhone } from '../store/phone-store.js';

/**
 * A desktop notification for each incoming call in the browser-served page (the Electron host shows native ones from
 * its main process): the caller as the call shows them (an anonymous one stays "Anonymous"), "Call waiting" when
 * another call is going on. It closes when the call stops ringing (answered, rejected, cancelled, answered
 * elsewhere); a click brings the page forward. Nothing is asked for here: the settings offer to allow notifications.
 */
export function useCallNotifications(): void {
  const calls = usePhone((s) => s.calls);
  const shown = useRef(new Map<string, Notification>());

  useEffect(() => {
    const open = shown.current;
    const ringing = Object.values(calls).filter((c) => c.state === 'incoming');
    for (const [id, notification] of open) {
      if (ringing.some((c) => c.id === id)) continue;
      notification.close();
      open.delete(id);
    }
    if (window.veilphone || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const language = usePhone.getState().language;
    const busy = Object.values(calls).some((c) => c.state !== 'incoming' && c.state !== 'terminated');
    for (const call of ringing) {
      if (open.has(call.id)) continue;
      try {
        const notification = new Notification(translate(language, busy ? 'callWaiting' : 'incomingCall'), {
          body: call.remote.anonymous ? translate(language, 'anonymous') : call.remote.shown,
          tag: `veilphone-call-${call.id}`,
          requireInteraction: true,
        });
        notification.onclick = () => {
          window.focus();
          notification.close();
        };
        open.set(call.id, notification);
      } catch {
        // a browser that only notifies from a service worker (Chrome on Android): the page still rings
      }
    }
  }, [calls]);

  useEffect(() => {
    const open = shown.current;
    return () => {
      for (const notification of open.values()) notification.close();
      open.clear();
    };
  }, []);
}
