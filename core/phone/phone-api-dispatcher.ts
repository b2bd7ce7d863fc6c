import type { CallLogFilter, CallResult } from '../api/call-log-types.js';
import { callResults } from '../api/history-query.js';
import { phoneCommands, type PhoneApi, type PhoneCommand } from '../api/phone-api.js';
import { PhoneError } from '../api/phone-error.js';
import type { ContactInput } from '../api/contact-types.js';
import type { CallRequest } from '../api/phone-types.js';
import { vcardImportLimits } from '../calllog/vcard-import-rules.js';
import { checkAccountConfig } from './account-config-check.js';

type Validator = (args: unknown[]) => unknown[];

const id = (value: unknown, what: string): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) throw invalid(`${what} must be a non-empty string`);
  return value;
};
const optionalId = (value: unknown, what: string): string | undefined => (value === undefined ? undefined : id(value, what));
const bool = (value: unknown, what: string): boolean => {
  if (typeof value !== 'boolean') throw invalid(`${what} must be true or false`);
  return value;
};

const result = (value: unknown): CallResult => {
  if (typeof value !== 'string' || !(callResults as readonly string[]).includes(value)) throw invalid(`result must be one of ${callResults.join(', ')}`);
  return value as CallResult;
};

function invalid(message: string): PhoneError {
  return new PhoneError('INVALID_ARGUMENT', message);
}

/** A contact from the UI: a name, 1-16 numbers (each on one line), the two flags. */
function checkContactInput(value: unknown): ContactInput {
  if (typeof value !== 'object' || value === null) throw invalid('contact must be an object');
  const c = value as Record<string, unknown>;
  if (typeof c.name !== 'string' || !/^[^\r\n]{1,128}$/.test(c.name)) throw invalid('name must be 1-128 characters on one line');
  if (!Array.isArray(c.numbers) || c.numbers.length === 0 || c.numbers.length > 16) throw invalid('numbers must be a list of 1-16');
  const numbers = c.numbers.map((n: unknown) => {
    const entry = n as Record<string, unknown> | null;
    if (typeof entry !== 'object' || entry === null || typeof entry.number !== 'string' || !/^[^\s<>"]{1,256}$/.test(entry.number.trim())) throw invalid('each number must be a number, user or SIP URI');
    if (entry.label !== undefined && (typeof entry.label !== 'string' || !/^[^\r\n]{0,32}$/.test(entry.label))) throw invalid('a label must be up to 32 characters');
    return { number: entry.number.trim(), ...(typeof entry.label === 'string' && entry.label.length > 0 ? { label: entry.label } : {}) };
  });
  const out: ContactInput = { name: c.name, numbers };
  if (c.id !== undefined) out.id = id(c.id, 'id');
  if (c.anonymous !== undefined) out.anonymous = bool(c.anonymous, 'anonymous');
  if (c.favourite !== undefined) out.favourite = bool(c.favourite, 'favourite');
  return out;
}

/** Argument checks for every command: a host bridges only well-typed calls into the phone. */
const validators: Record<PhoneCommand, Validator> = {
  snapshot: () => [],
  register: ([account]) => [optionalId(account, 'account')],
  unregister: ([account]) => [optionalId(account, 'account')],
  settings: () => [],
  updateAccount: ([config]) => [checkAccountConfig(config)],
  removeAccount: ([account]) => [id(account, 'account')],
  call: ([request]) => {
    if (typeof request !== 'object' || request === null) throw invalid('call needs { target, accountId? }');
    const { target, accountId, anonymity, anonymityLevel } = request as Record<string, unknown>;
    if (typeof target !== 'string' || target.length === 0 || target.length > 256) throw invalid('target must be 1-256 characters');
    const out: CallRequest = { target };
    const account = optionalId(accountId, 'accountId');
    if (account !== undefined) out.accountId = account;
    if (anonymity !== undefined) {
      if (anonymity !== 'default' && anonymity !== 'none' && anonymity !== 'prefix' && anonymity !== 'header') throw invalid('anonymity must be default, none, prefix or header');
      out.anonymity = anonymity;
    }
    if (anonymityLevel !== undefined) {
      if (anonymityLevel !== 'id' && anonymityLevel !== 'full') throw invalid('anonymityLevel must be id or full');
      out.anonymityLevel = anonymityLevel;
    }
    return [out];
  },
  answer: ([call, others]) => {
    if (others !== undefined && others !== 'hold' && others !== 'hangup') throw invalid('others must be hold or hangup');
    return [id(call, 'call'), others];
  },
  reject: ([call, status]) => {
    if (status !== undefined && (typeof status !== 'number' || !Number.isInteger(status) || status < 300 || status > 699)) throw invalid('status must be 300-699');
    return [id(call, 'call'), status];
  },
  hangup: ([call]) => [id(call, 'call')],
  hold: ([call, on]) => [id(call, 'call'), bool(on, 'on')],
  mute: ([call, on]) => [id(call, 'call'), bool(on, 'on')],
  sendDtmf: ([call, digits, method]) => {
    if (typeof digits !== 'string' || !/^[0-9A-Da-d*#]{1,32}$/.test(digits)) throw invalid('digits must be 1-32 of 0-9 A-D * #');
    if (method !== undefined && method !== 'rfc4733' && method !== 'info') throw invalid('method must be rfc4733 or info');
    return [id(call, 'call'), digits, method];
  },
  transfer: ([call, target]) => {
    if (typeof target !== 'object' || target === null) throw invalid('transfer needs { to } or { replaces }');
    const { to, replaces } = target as Record<string, unknown>;
    if ((to === undefined) === (replaces === undefined)) throw invalid('transfer needs exactly one of to and replaces');
    if (to !== undefined) {
      if (typeof to !== 'string' || to.length === 0 || to.length > 256) throw invalid('to must be 1-256 characters');
      return [id(call, 'call'), { to }];
    }
    return [id(call, 'call'), { replaces: id(replaces, 'replaces') }];
  },
  contacts: ([query]) => {
    if (query !== undefined && (typeof query !== 'string' || query.length > 256)) throw invalid('query must be up to 256 characters');
    return [query];
  },
  saveContact: ([contact]) => [checkContactInput(contact)],
  removeContact: ([contact]) => [id(contact, 'contact')],
  importContacts: ([vcard]) => {
    // the codec checks the size and the cards; this only keeps a non-string (or a huge one) from reaching it
    if (typeof vcard !== 'string' || vcard.length > 2 * vcardImportLimits.maxBytes) throw new PhoneError('INVALID_VCARD', `a vCard file must be text of at most ${vcardImportLimits.maxBytes} bytes`);
    return [vcard];
  },
  exportContacts: () => [],
  history: ([filter]) => {
    if (filter === undefined) return [undefined];
    if (typeof filter !== 'object' || filter === null) throw invalid('filter must be an object');
    const f = filter as Record<string, unknown>;
    const out: CallLogFilter = {};
    for (const key of ['number', 'sipCallId', 'accountId'] as const) if (f[key] !== undefined) out[key] = id(f[key], key);
    for (const key of ['since', 'until', 'limit'] as const) {
      if (f[key] === undefined) continue;
      if (typeof f[key] !== 'number' || !Number.isFinite(f[key])) throw invalid(`${key} must be a number`);
      out[key] = f[key];
    }
    if (f.anonymous !== undefined) out.anonymous = bool(f.anonymous, 'anonymous');
    if (f.direction !== undefined) {
      if (f.direction !== 'incoming' && f.direction !== 'outgoing') throw invalid('direction must be incoming or outgoing');
      out.direction = f.direction;
    }
    if (f.result !== undefined) {
      if (Array.isArray(f.result)) {
        if (f.result.length > callResults.length) throw invalid('too many results');
        out.result = f.result.map(result);
      } else {
        out.result = result(f.result);
      }
    }
    if (f.status !== undefined) {
      if (typeof f.status !== 'number' || !Number.isInteger(f.status) || f.status < 100 || f.status > 699) throw invalid('status must be 100-699');
      out.status = f.status;
    }
    if (f.before !== undefined) {
      const b = f.before as Record<string, unknown>;
      if (typeof b !== 'object' || b === null || typeof b.startedAt !== 'number') throw invalid('before must be { startedAt, id }');
      out.before = { startedAt: b.startedAt, id: id(b.id, 'before.id') };
    }
    return [out];
  },
  callDetail: ([call]) => [id(call, 'call')],
  exportCalls: ([calls, format]) => {
    if (!Array.isArray(calls) || calls.length === 0 || calls.length > 1000) throw invalid('calls must be a list of 1-1000 call ids');
    if (format !== 'json' && format !== 'pcap') throw invalid('format must be json or pcap');
    return [calls.map((call) => id(call, 'call')), format];
  },
};

/** Run one command by name with untrusted arguments; rejects with PhoneError('INVALID_ARGUMENT') on bad input. */
export async function dispatchPhoneCommand(api: PhoneApi, command: string, args: unknown[]): Promise<unknown> {
  if (!(phoneCommands as readonly string[]).includes(command)) throw invalid(`unknown command "${command}"`);
  // JSON carries an absent optional argument as null (`[id, undefined]` is sent as `[id, null]`)
  const checked = validators[command as PhoneCommand](args.map((arg) => (arg === null ? undefined : arg)));
  const method = api[command as PhoneCommand] as (...a: unknown[]) => Promise<unknown>;
  return method.apply(api, checked);
}
