import { createRoot } from 'react-dom/client';
import type { PhoneApi } from '../core/api/phone-api.js';
import { bridgedPhoneApi } from './phone-client/bridged-phone-client.js';
import { WsPhoneClient } from './phone-client/ws-phone-client.js';
import { usePhone } from './store/phone-store.js';
import { App } from './views/App.js';
import './styles.css';
import './desktop.css';

declare global {
  interface Window {
    /** Set by the Electron preload; absent when the page is served by `veilphone serve`. */
    veilphone?: PhoneApi;
  }
}

const api: PhoneApi = window.veilphone ? bridgedPhoneApi(window.veilphone) : WsPhoneClient.fromLocation(window.location);
if (api instanceof WsPhoneClient) api.onClose = () => usePhone.setState({ connected: false });
void usePhone.getState().connect(api);
createRoot(document.getElementById('root')!).render(<App />);
