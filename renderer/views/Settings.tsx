import { useEffect, useState } from 'react';
import { maskedPassword, type AccountConfig, type AddressSourceKind, type PhoneSettings, type TransportKind } from '../../core/api/phone-types.js';
import { refreshAudioDevices } from '../audio/devices.js';
import type { DesktopSettings } from '../desktop/desktop-bridge.js';
import { useAudio } from '../store/audio-store.js';
import { usePhone } from '../store/phone-store.js';
import { householdFieldsOf, householdProblem, withHousehold, type HouseholdFields } from './household-form.js';
import { mediaTimeoutFieldOf, withMediaTimeout } from './media-timeout-form.js';
import { sessionExpiresFieldOf, withSessionExpires } from './session-timer-form.js';
import { useT } from './use-t.js';

type AddressChoice = 'fixed' | AddressSourceKind;

interface AccountForm extends HouseholdFields {
  id: string;
  user: string;
  displayName: string;
  server: string;
  transport: TransportKind;
  password: string;
  anonymous: boolean;
  mode: 'prefix' | 'header';
  level: 'id' | 'full';
  address: AddressChoice;
  prefix: string;
  iface: string;
  directCalls: boolean;
  /** Seconds without audio from the far end after which a call is ended (AccountConfig.mediaTimeout.seconds). */
  mediaTimeout: string;
  /** The session interval our INVITEs ask for, RFC 4028 (AccountConfig.sessionExpires); 0: none. */
  sessionExpires: string;
}

const sources: AddressChoice[] = ['fixed', 'loopback', 'router-advertisement', 'interface', 'configured', 'dhcp'];

function formOf(account: AccountConfig | undefined): AccountForm {
  const address = account?.address;
  return {
    id: account?.id ?? '',
    user: account?.user ?? '',
    displayName: account?.displayName ?? '',
    server: account?.server ?? '',
    transport: account?.transport ?? 'udp',
    password: account?.password !== undefined ? maskedPassword : '',
    anonymous: account?.anonymity?.anonymous ?? false,
    mode: account?.anonymity?.mode ?? 'prefix',
    level: account?.anonymity?.level ?? 'id',
    address: address?.mode === 'temporary' ? address.source : 'fixed',
    prefix: address?.mode === 'temporary' ? (address.prefix ?? '') : '',
    iface: address?.mode === 'temporary' ? (address.interface ?? '') : '',
    directCalls: account?.directCalls ?? false,
    mediaTimeout: mediaTimeoutFieldOf(account),
    sessionExpires: sessionExpiresFieldOf(account),
    ...householdFieldsOf(account),
  };
}

/** The form as an account configuration; fields the form does not show are kept from the stored account. */
function configOf(form: AccountForm, previous: AccountConfig | undefined): AccountConfig {
  const { password: _password, displayName: _display, address: _address, anonymity: _anonymity, ...kept } = previous ?? ({} as Partial<AccountConfig>);
  const config: AccountConfig = { ...kept, id: form.id.trim(), user: form.user.trim(), server: form.server.trim(), transport: form.transport };
  if (form.displayName.trim()) config.displayName = form.displayName.trim();
  if (form.password !== '') config.password = form.password;
  else if (previous?.password !== undefined) config.password = ''; // cleared by the user: remove the stored one
  config.anonymity = { anonymous: form.anonymous, mode: form.mode, level: form.level };
  if (form.address !== 'fixed') {
    const previousAddress = previous?.address?.mode === 'temporary' ? previous.address : undefined;
    config.address = { ...(previousAddress ?? {}), mode: 'temporary', source: form.address };
    if (form.prefix.trim()) config.address.prefix = form.prefix.trim();
    else delete config.address.prefix;
    if (form.iface.trim()) config.address.interface = form.iface.trim();
    else delete config.address.interface;
  } else config.address = { mode: 'fixed' };
  if (form.directCalls) config.directCalls = true;
  else delete config.directCalls;
  return withHousehold(withSessionExpires(withMediaTimeout(config, form.mediaTimeout), form.sessionExpires), form);
}

export function AccountEditor({ account, onDone }: { account: AccountConfig | undefined; onDone: () => void }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  const refreshSnapshot = usePhone((s) => s.refreshSnapshot);
  const [form, setForm] = useState<AccountForm>(() => formOf(account));
  const [problem, setProblem] = useState<ReturnType<typeof householdProblem>>(undefined);
  const field = <K extends keyof AccountForm>(key: K) => (value: AccountForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const text = (key: 'id' | 'user' | 'displayName' | 'server' | 'password' | 'prefix' | 'iface' | 'gateway' | 'room' | 'mediaTimeout' | 'sessionExpires', label: string, extra: Record<string, unknown> = {}) => (
    <label className="field">
      <span>{label}</span>
      <input value={form[key]} onChange={(event) => field(key)(event.target.value)} autoComplete="off" spellCheck={false} {...extra} />
    </label>
  );
  const fieldError = (which: 'gateway' | 'room') =>
    problem?.field === which ? (
      <p className="field-error" role="alert" data-field={which}>
        {t(problem.key)}
      </p>
    ) : null;
  return (
    <form
      className="account-editor"
      aria-label={account ? `${t('editAccount')} ${account.id}` : t('addAccount')}
      onSubmit={(event) => {
        event.preventDefault();
        const wrong = householdProblem(form);
        setProblem(wrong);
        if (wrong) return;
        void run(async (api) => {
          await api.updateAccount(configOf(form, account));
          await refreshSnapshot();
          onDone();
        });
      }}
    >
      <h3>{account ? `${t('editAccount')} ${account.id}` : t('addAccount')}</h3>
      {text('id', t('accountId'), { readOnly: account !== undefined, required: true })}
      <fieldset className="household-mode">
        <legend>{t('householdTitle')}</legend>
        <label className="switch">
          <input type="checkbox" role="switch" aria-checked={form.household} checked={form.household} onChange={(event) => field('household')(event.target.checked)} /> {t('householdTerminal')}
        </label>
        {form.household && (
          <>
            {text('gateway', t('householdGateway'), { placeholder: '127.77.0.1:6767', 'aria-invalid': problem?.field === 'gateway' })}
            {fieldError('gateway')}
            {text('room', t('householdRoom'), { placeholder: '100-1101-1201', 'aria-invalid': problem?.field === 'room' })}
            {fieldError('room')}
            <p className="call-detail">{t('householdGivenByGateway')}</p>
          </>
        )}
      </fieldset>
      {!form.household && text('user', t('accountUser'), { required: true })}
      {text('displayName', t('accountDisplay'))}
      {!form.household && text('server', t('accountServer'), { required: true, placeholder: 'sip:127.0.0.1:5060' })}
      {!form.household && (
        <label className="field">
          <span>{t('accountTransport')}</span>
          <select value={form.transport} onChange={(event) => field('transport')(event.target.value as TransportKind)}>
            <option value="udp">UDP</option>
            <option value="tcp">TCP</option>
            <option value="ws">WebSocket</option>
          </select>
        </label>
      )}
      {text('password', t('accountPassword'), { type: 'password', placeholder: account?.password !== undefined ? t('passwordKept') : '' })}
      <fieldset>
        <legend>{t('anonymityDefault')}</legend>
        <label className="switch">
          <input type="checkbox" role="switch" aria-checked={form.anonymous} checked={form.anonymous} onChange={(event) => field('anonymous')(event.target.checked)} /> {t('withholdAlways')}
        </label>
        <label className="field">
          <span>{t('anonymityMode')}</span>
          <select value={form.mode} onChange={(event) => field('mode')(event.target.value as 'prefix' | 'header')}>
            <option value="prefix">{t('modePrefix')}</option>
            <option value="header">{t('modeHeader')}</option>
          </select>
        </label>
        <label className="field">
          <span>{t('anonymityLevel')}</span>
          <select value={form.level} onChange={(event) => field('level')(event.target.value as 'id' | 'full')}>
            <option value="id">{t('levelId')}</option>
            <option value="full">{t('levelFull')}</option>
          </select>
        </label>
      </fieldset>
      <fieldset>
        <legend>{t('addressSource')}</legend>
        <label className="field">
          <span>{t('addressSource')}</span>
          <select value={form.address} onChange={(event) => field('address')(event.target.value as AddressChoice)}>
            {sources.map((source) => (
              <option key={source} value={source}>
                {t(`source_${source}`)}
              </option>
            ))}
          </select>
        </label>
        {form.address === 'configured' && text('prefix', t('addressPrefix'), { placeholder: '2001:db8:1:2::/64', required: true })}
        {(form.address === 'router-advertisement' || form.address === 'interface') && text('iface', t('addressInterface'), { placeholder: 'eth0', required: form.address === 'router-advertisement' })}
      </fieldset>
      <fieldset>
        <legend>{t('directCallsTitle')}</legend>
        <label className="switch">
          <input type="checkbox" role="switch" aria-checked={form.directCalls} checked={form.directCalls} onChange={(event) => field('directCalls')(event.target.checked)} /> {t('directCalls')}
        </label>
      </fieldset>
      <fieldset>
        <legend>{t('mediaTimeoutTitle')}</legend>
        {text('mediaTimeout', t('mediaTimeoutSeconds'), { type: 'number', min: 0, max: 86400, step: 1, inputMode: 'numeric' })}
        {text('sessionExpires', t('sessionExpiresSeconds'), { type: 'number', min: 0, max: 86400, step: 1, inputMode: 'numeric' })}
      </fieldset>
      <div className="call-controls">
        <button type="submit" className="save">
          {t('save')}
        </button>
        <button type="button" onClick={onDone}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

/** One audio device choice: the system default, then every device the browser names (its pseudo-entries left out). */
function DevicePicker(props: { label: string; devices: ReadonlyArray<{ deviceId: string; label: string }>; value: string; onChange: (id: string) => void; defaultLabel?: string }) {
  const t = useT();
  return (
    <label className="field">
      <span>{props.label}</span>
      <select value={props.value} onChange={(event) => props.onChange(event.target.value)}>
        <option value="">{props.defaultLabel ?? t('systemDefault')}</option>
        {props.devices
          .filter((d) => d.deviceId !== 'default' && d.deviceId !== '')
          .map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
      </select>
    </label>
  );
}

function AudioSettings() {
  const t = useT();
  const { inputs, outputs, canPickOutput, inputId, outputId, ringerId, ringVolume, setInput, setOutput, setRinger, setRingVolume } = useAudio();
  useEffect(() => void refreshAudioDevices(), []);
  return (
    <section className="audio-settings" aria-label={t('audio')}>
      <h3>{t('audio')}</h3>
      <DevicePicker label={t('microphone')} devices={inputs} value={inputId} onChange={setInput} />
      {canPickOutput ? (
        <>
          <DevicePicker label={t('speaker')} devices={outputs} value={outputId} onChange={setOutput} />
          <DevicePicker label={t('ringerDevice')} devices={outputs} value={ringerId} onChange={setRinger} defaultLabel={t('sameAsSpeaker')} />
        </>
      ) : (
        <p className="call-detail">{t('speakerNotSelectable')}</p>
      )}
      <label className="field">
        <span>{t('ringVolume')}</span>
        <input type="range" min={0} max={100} step={5} value={Math.round(ringVolume * 100)} onChange={(event) => setRingVolume(Number(event.target.value) / 100)} />
      </label>
    </section>
  );
}

/** Whether the browser lets this page show notifications, and the button that asks (it must follow a click). */
function NotificationSettings() {
  const t = useT();
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>(supported ? Notification.permission : 'unsupported');
  return (
    <section className="notification-settings" aria-label={t('notifications')}>
      <h3>{t('notifications')}</h3>
      <p className={`call-detail notify-${permission}`}>{t(`notify_${permission}`)}</p>
      {permission === 'default' && (
        <button type="button" onClick={() => void Notification.requestPermission().then(setPermission, () => undefined)}>
          {t('allowNotifications')}
        </button>
      )}
    </section>
  );
}

/** The desktop host's own settings (Electron only): keep running in the tray when the window is closed. */
function DesktopSettingsSection() {
  const t = useT();
  const desktop = window.veilphoneDesktop;
  const run = usePhone((s) => s.run);
  const [settings, setSettings] = useState<DesktopSettings | undefined>(undefined);
  useEffect(() => void desktop?.settings().then(setSettings, () => undefined), [desktop]);
  if (!desktop || !settings) return null;
  return (
    <section className="desktop-settings" aria-label={t('desktopApp')}>
      <h3>{t('desktopApp')}</h3>
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          aria-checked={settings.closeToTray}
          checked={settings.closeToTray}
          onChange={(event) => {
            const closeToTray = event.target.checked;
            void run(async () => setSettings(await desktop.updateSettings({ closeToTray })));
          }}
        />{' '}
        {t('closeToTray')}
      </label>
    </section>
  );
}

/** Accounts (server, transport, password, anonymity default, address source) stored by the core, and audio devices. */
export function Settings() {
  const t = useT();
  const api = usePhone((s) => s.api);
  const run = usePhone((s) => s.run);
  const refreshSnapshot = usePhone((s) => s.refreshSnapshot);
  const [settings, setSettings] = useState<PhoneSettings | undefined>(undefined);
  const [editing, setEditing] = useState<string | 'new' | undefined>(undefined);
  const load = (): void => void api?.settings().then(setSettings, () => undefined);
  useEffect(load, [api]);
  const accounts = settings?.accounts ?? [];
  return (
    <section className="settings" aria-label={t('settings')}>
      <h2>{t('settings')}</h2>
      <p className="call-detail storage">{settings ? t(settings.storage === 'file' ? 'storageFile' : 'storageMemory') : ''}</p>
      <h3>{t('accounts')}</h3>
      <ul className="accounts">
        {accounts.map((account) => (
          <li key={account.id} data-account={account.id}>
            <span className="account-name">
              {account.displayName ?? account.user} <code>{account.user}</code> · {account.transport.toUpperCase()} · <code>{account.server}</code>
              {account.anonymity?.anonymous ? ` · ${t('anonymous')}` : ''}
            </span>
            <button type="button" aria-label={`${t('editAccount')} ${account.id}`} onClick={() => setEditing(account.id)}>
              {t('edit')}
            </button>
            <button
              type="button"
              aria-label={`${t('removeAccount')} ${account.id}`}
              onClick={() =>
                void run(async (a) => {
                  await a.removeAccount(account.id);
                  await refreshSnapshot();
                  load();
                })
              }
            >
              {t('remove')}
            </button>
          </li>
        ))}
      </ul>
      {editing === undefined ? (
        <button type="button" onClick={() => setEditing('new')}>
          {t('addAccount')}
        </button>
      ) : (
        <AccountEditor
          key={editing}
          account={editing === 'new' ? undefined : accounts.find((a) => a.id === editing)}
          onDone={() => {
            setEditing(undefined);
            load();
          }}
        />
      )}
      <AudioSettings />
      {window.veilphone ? <DesktopSettingsSection /> : <NotificationSettings />}
    </section>
  );
}
