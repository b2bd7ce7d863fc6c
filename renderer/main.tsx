import { createRoot } from 'react-dom/client';
import type { PhoneApi } from '../core/api/phone-api.js';
import { bridgedPhoneApi } from './phone-client/bridged-phone-client.js';
import { diagnoseConnection } from './phone-client/session-check.js';
import { WsPhoneClient } from './phone-client/ws-phone-client.js';
import { usePhone } from './store/phone-store.js';
import { App } from './views/App.js';
import './styles.css';
import './desktop.css';
import './layout.css';

declare global {
  interface Window {
    /** Set by the Electron preload; absent when the page is served by `veilphone serve`. */
    veilphone?: PhoneApi;
  }
}

if (window.veilphone) {
  void usePhone.getState().connect(bridgedPhoneApi(window.veilphone));
} else {
  // The served page: its link carries the run's access token. Without one, or when the socket is refused or drops,
  // the banner says which of those happened and how to get a working link.
  const token = WsPhoneClient.tokenOf(window.location);
  if (token === '') {
    usePhone.setState({ connectionProblem: 'no-token' });
  } else {
    const api = WsPhoneClient.fromLocation(window.location);
    api.onClose = () => {
      usePhone.setState({ connected: false });
      void diagnoseConnection(token).then((problem) => usePhone.setState({ connectionProblem: problem }));
    };
    void usePhone.getState().connect(api);
  }
}
createRoot(document.getElementById('root')!).render(<App />);
