import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../core/api/phone-types.js';
import { householdFieldsOf, householdProblem, withHousehold } from './household-form.js';

// The stores read the browser's language when they load; Node 20 has no navigator.
beforeAll(() => {
  if (!('navigator' in globalThis)) Object.defineProperty(globalThis, 'navigator', { value: { language: 'en-US' }, configurable: true });
});

const room = '100-1101-1201';

/** renderToStaticMarkup reads zustand's server snapshot, its initial state: write there as well as into the live state. */
function seed<T extends object>(store: { setState(partial: Partial<T>): void; getInitialState(): T }, partial: Partial<T>): void {
  store.setState(partial);
  Object.assign(store.getInitialState(), partial);
}
const terminal: AccountConfig = { id: 'home', user: `${room}-1`, server: 'sip:127.77.0.1:5070;transport=udp', transport: 'udp', localAddress: '127.77.0.2', domain: 'household.lab', household: { gateway: '127.77.0.1:6767', room } };

/** The settings' household terminal mode (seed 001 Fig. 8, issue 20): the account names its room's gateway and room. */
describe('a household terminal in the settings and the status bar', () => {
  it('refuses a missing or malformed gateway or room with words that say what to write', () => {
    const fields = (gateway: string, roomNumber: string) => ({ household: true, gateway, room: roomNumber });
    expect(householdProblem({ household: false, gateway: '', room: '' })).toBeUndefined();
    expect(householdProblem(fields('', room))).toEqual({ field: 'gateway', key: 'householdGatewayMissing' });
    expect(householdProblem(fields('127.77.0.1', room))).toEqual({ field: 'gateway', key: 'householdGatewayInvalid' });
    expect(householdProblem(fields('127.77.0.300:6767', room))).toEqual({ field: 'gateway', key: 'householdGatewayInvalid' });
    expect(householdProblem(fields('127.77.0.1:0', room))).toEqual({ field: 'gateway', key: 'householdGatewayInvalid' });
    expect(householdProblem(fields('gateway at home', room))).toEqual({ field: 'gateway', key: 'householdGatewayInvalid' });
    expect(householdProblem(fields('127.77.0.1:6767', ''))).toEqual({ field: 'room', key: 'householdRoomMissing' });
    expect(householdProblem(fields('127.77.0.1:6767', `${room}-2`))).toEqual({ field: 'room', key: 'householdRoomIsTerminal' });
    expect(householdProblem(fields('127.77.0.1:6767', '100-1101'))).toEqual({ field: 'room', key: 'householdRoomInvalid' });
    expect(householdProblem(fields(' 127.77.0.1:6767 ', room))).toBeUndefined();
    expect(householdProblem(fields('veth-room1', room))).toBeUndefined();
  });

  it('sends a terminal without user or server (the gateway gives them) over UDP; turned off, it drops the allocation\'s address', () => {
    const plain: AccountConfig = { id: 'home', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'tcp' };
    expect(withHousehold(plain, { household: true, gateway: ' 127.77.0.1:6767', room })).toEqual({ id: 'home', user: '', server: '', transport: 'udp', household: { gateway: '127.77.0.1:6767', room } });
    expect(withHousehold(plain, { household: false, gateway: '', room: '' })).toEqual(plain);
    const { household: _h, localAddress: _a, domain: _d, ...left } = terminal;
    expect(withHousehold({ ...terminal, user: 'alice', server: 'sip:127.0.0.1:5060' }, { household: false, gateway: '127.77.0.1:6767', room })).toEqual({ ...left, user: 'alice', server: 'sip:127.0.0.1:5060' });
    expect(householdFieldsOf(terminal)).toEqual({ household: true, gateway: '127.77.0.1:6767', room });
    expect(householdFieldsOf(plain)).toEqual({ household: false, gateway: '', room: '' });
  });

  it('the editor of a terminal shows its gateway and room instead of user name, server and transport', async () => {
    const { AccountEditor } = await import('./Settings.js');
    const html = renderToStaticMarkup(<AccountEditor account={terminal} onDone={() => undefined} />);
    expect(html).toMatch(/<input type="checkbox" role="switch" aria-checked="true" checked=""\/> This phone is a terminal of a room/);
    expect(html).toMatch(/<span>Room gateway \(ADDRESS:PORT or interface\)<\/span><input [^>]*value="127\.77\.0\.1:6767"/);
    expect(html).toMatch(new RegExp(`<span>Room \\(area-building-room\\)</span><input [^>]*value="${room}"`));
    expect(html).not.toContain('<span>User name</span>');
    expect(html).not.toContain('<span>SIP server</span>');
    const plain = renderToStaticMarkup(<AccountEditor account={{ id: 'a', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp' }} onDone={() => undefined} />);
    expect(plain).toContain('aria-checked="false"');
    expect(plain).toContain('User name');
    expect(plain).not.toContain('Room gateway');
  });

  it('the status bar shows the terminal\'s number, address and gateway', async () => {
    const { StatusBar } = await import('./StatusBar.js');
    const { usePhone } = await import('../store/phone-store.js');
    seed(usePhone, { accounts: [terminal], registrations: { home: { accountId: 'home', state: 'registered' } }, household: [{ accountId: 'home', room, number: `${room}-1`, address: '127.77.0.2', gateway: '127.77.0.1:5070' }] });
    const expected = `<span class="household-terminal" data-number="${room}-1" data-room="${room}">Terminal ${room}-1 · 127.77.0.2 · gateway 127.77.0.1:5070</span>`;
    expect(renderToStaticMarkup(<StatusBar narrow={false} />)).toContain(expected);
    expect(renderToStaticMarkup(<StatusBar narrow />)).toContain(expected);
    seed(usePhone, { household: [] });
    expect(renderToStaticMarkup(<StatusBar narrow={false} />)).not.toContain('household-terminal');
  });
});
