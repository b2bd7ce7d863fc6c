import { Core, Invitation, Inviter, Registerer, UserAgent } from 'sip.js';
import { createRandomToken, headerize } from 'sip.js/lib/core/messages/utils.js';
import * as userAgentCoreModule from 'sip.js/lib/core/user-agent-core/user-agent-core.js';
import { parse as grammarParse } from 'sip.js/lib/grammar/pegjs/dist/grammar.js';
import { AllowedMethods } from 'sip.js/lib/core/user-agent-core/allowed-methods.js';

/**
 * The parts of the loaded sip.js that `npm install` patches (tools/postinstall/README.md), as the running process has
 * them: the same module instances the phone uses, in node_modules or bundled into the desktop app.
 */
export interface SipJsParts {
  UserAgent: { newUUID(): string };
  /** The UserAgent class again, for the source of its constructor (where sip.js makes its INVITE delegate). */
  UserAgentConstructor: { toString(): string };
  ClientTransaction: { makeId(request: { method: string }): string };
  InviteClientTransaction: { prototype: object };
  SessionDialog: { prototype: object };
  Dialog: { prototype: object; initialDialogStateForUserAgentClient: (...args: never[]) => unknown };
  /** The Inviter class: its methods, and its own source for the constructor (where it takes its From tag). */
  Inviter: { prototype: object; toString(): string };
  Invitation: { prototype: object };
  UserAgentCore: { prototype: object };
  InviteServerTransaction: { prototype: object };
  InviteUserAgentClient: { prototype: object };
  createRandomToken: (size: number, base?: number) => string;
  headerize: (name: string) => string;
  /** What sipjs-merged-request-index adds to user-agent-core.js (undefined without it). */
  UserAgentServers: { prototype: object } | undefined;
  grammarParse: (...args: never[]) => unknown;
  /** The methods sip.js's core takes (sipjs-update adds UPDATE). */
  AllowedMethods: readonly string[];
  /** The Registerer class, for its methods' source. */
  Registerer: { prototype: object };
}

const installed: SipJsParts = {
  UserAgent: UserAgent as unknown as SipJsParts['UserAgent'],
  UserAgentConstructor: UserAgent,
  ClientTransaction: Core.ClientTransaction as unknown as SipJsParts['ClientTransaction'],
  InviteClientTransaction: Core.InviteClientTransaction,
  SessionDialog: Core.SessionDialog,
  Dialog: Core.Dialog as unknown as SipJsParts['Dialog'],
  Inviter,
  Invitation,
  UserAgentCore: Core.UserAgentCore,
  InviteServerTransaction: Core.InviteServerTransaction,
  InviteUserAgentClient: Core.InviteUserAgentClient,
  createRandomToken,
  headerize,
  UserAgentServers: (userAgentCoreModule as Record<string, unknown>).VeilphoneUserAgentServers as SipJsParts['UserAgentServers'],
  grammarParse: grammarParse as SipJsParts['grammarParse'],
  AllowedMethods,
  Registerer,
};

/**
 * The source text of a function or of every method of a class (comments aside: a bundler drops them; one that keeps
 * names wraps arrow functions in `__name(…)`, which the checks allow).
 */
function sourceOf(value: { prototype: object }): string {
  const methods = Object.getOwnPropertyNames(value.prototype).map((name) => Object.getOwnPropertyDescriptor(value.prototype, name)?.value);
  return methods.filter((m): m is (...args: unknown[]) => unknown => typeof m === 'function').map((m) => m.toString()).join('\n');
}

/** Calls to Math.random while `action` runs (each identifier must come from the CSPRNG instead). */
function mathRandomCalls(action: () => void): number {
  const original = Math.random;
  let calls = 0;
  Math.random = () => {
    calls++;
    return original();
  };
  try {
    action();
  } finally {
    Math.random = original;
  }
  return calls;
}

/** Each patch by the name of its script in tools/postinstall, with what it does and how its presence shows. */
const patches: ReadonlyArray<{ name: string; what: string; applied: (sip: SipJsParts) => boolean }> = [
  {
    name: 'sipjs-csprng',
    what: 'tags, Via branches, cnonces, contact users and instance ids from the CSPRNG, not Math.random (RFC 3323 §4.1: unlinkable identifiers)',
    applied: (sip) =>
      mathRandomCalls(() => {
        sip.createRandomToken(10);
        sip.UserAgent.newUUID();
        sip.ClientTransaction.makeId({ method: 'INVITE' });
      }) === 0 && /randomUUID/.test(sourceOf(sip.InviteClientTransaction)),
  },
  {
    name: 'sipjs-reinvite-ack-timeout',
    what: 'a call whose re-INVITE 2xx is never acknowledged ends with BYE (RFC 3261 §13.3.1.4)',
    applied: (sip) => /this\.reinviteUserAgentServer === owner/.test(sourceOf(sip.SessionDialog)) && /onAckTimeout:\s*(?:\/\*[^*]*\*\/\s*)?(?:__name\(\s*)?\(\)\s*=>/.test(sourceOf(sip.Inviter)),
  },
  {
    name: 'sipjs-reinvite-ack-matching',
    what: "the ACK of a re-INVITE's 2xx is that re-INVITE's, and each 2xx is retransmitted until its own ACK (RFC 3261 §13.3.1.4, RFC 6026 §8.1)",
    applied: (sip) => /forReinvite/.test(sourceOf(sip.SessionDialog)) && /chainTimer/.test(sourceOf(sip.SessionDialog)),
  },
  {
    name: 'sipjs-dialog-from',
    what: "every request of a dialog carries its first request's From display name (an anonymous call's ACK and BYE said the caller's name, RFC 3323 §4.1.1.3)",
    applied: (sip) => /localDisplayName/.test(sourceOf(sip.Dialog)) && /localDisplayName/.test(sip.Dialog.initialDialogStateForUserAgentClient.toString()),
  },
  {
    name: 'sipjs-ack-timeout-after-bye',
    what: 'an ACK timeout after a BYE ended the session does nothing (it sent a BYE for the ended dialog and threw, ending the process; RFC 3261 §15.1.2)',
    applied: (sip) => /onAckTimeout\(\)\s*\{[^}]*this\.state === [\w.]*Terminated/.test(sourceOf(sip.Invitation)),
  },
  {
    name: 'sipjs-fault-guard',
    what: 'what a sip.js timer throws reaches the application instead of ending the process',
    applied: (sip) => /guardTimer\(/.test(sourceOf(sip.InviteServerTransaction)),
  },
  {
    name: 'sipjs-cancel-to-tag',
    what: 'a CANCEL is answered with the To tag of the INVITE it matched (RFC 3261 §9.2)',
    applied: (sip) => /statusCode: 200, toTag: uas\.toTag/.test(sourceOf(sip.UserAgentCore)),
  },
  {
    name: 'sipjs-contactless-provisional',
    what: 'a 18x without Contact (Linphone without 100rel) rings and plays its early media, the 2xx setting the remote target (RFC 3261 §12.1.1, §12.2.1.2)',
    // the script patches dialog.js before invite-user-agent-client.js, so this one shows both
    applied: (sip) => /contactlessReliable/.test(sourceOf(sip.InviteUserAgentClient)) && /dialog\.dialogState\.remoteTarget = dialogState\.remoteTarget/.test(sourceOf(sip.InviteUserAgentClient)),
  },
  {
    name: 'sipjs-deferred-trying',
    what: 'a 100 Trying only when nothing else was sent within 100 ms of the INVITE (RFC 3261 §17.2.1)',
    // the INVITE delegate is made in the constructor, so the class's own source shows it
    applied: (sip) => /veilphoneTrying = setTimeout/.test(sip.UserAgentConstructor.toString()),
  },
  {
    name: 'sipjs-merged-request-index',
    what: 'merged requests found by an index of the server transactions, not by comparing each of them (RFC 3261 §8.2.2.2)',
    applied: (sip) => typeof (sip.UserAgentServers?.prototype as { holdsLike?: unknown } | undefined)?.holdsLike === 'function',
  },
  {
    name: 'sipjs-headerize-cache',
    what: 'each header name put in canonical case once, not every time a header is added',
    applied: (sip) => /veilphoneHeaderNames/.test(sip.headerize.toString()),
  },
  {
    name: 'sipjs-update',
    what: 'an UPDATE in a call reaches it (RFC 3311: a session refresh from peers that send one whatever our Allow says)',
    applied: (sip) => sip.AllowedMethods.includes('UPDATE') && /onUpdate/.test(sourceOf(sip.SessionDialog)),
  },
  {
    name: 'sipjs-grammar-cache',
    what: 'the SIP grammar decodes its bytecode table once, not on every header parsed',
    applied: (sip) => /peg\$bytecodeCache\s*\?\?=/.test(sip.grammarParse.toString()),
  },
  {
    name: 'sipjs-inviter-from-tag',
    what: 'an INVITE sent again after a 422 or a 3xx keeps the From tag of the call (RFC 3261 §8.1.3.5)',
    // in the constructor, so the class's own source shows it (a bundler drops the parentheses)
    applied: (sip) => /params\.fromTag\)?\s*\|\|/.test(sip.Inviter.toString()),
  },
  {
    name: 'sipjs-unusable-2xx',
    what: 'a 2xx to INVITE without To tag or Contact ends the call instead of leaving it ringing for good (RFC 3261 §12.1.1)',
    applied: (sip) => /without a Contact header field, dropping\."\);\s*if \(this\.delegate && this\.delegate\.onReject\)/.test(sourceOf(sip.InviteUserAgentClient)),
  },
  {
    name: 'sipjs-register-answers',
    what: 'a 2xx to REGISTER that registers nothing is reported, binding timers stay within Node\'s, and a 423 is answered once (a registrar could make the phone hang or send thousands of REGISTERs a second; RFC 3261 §10.2.4, §10.2.8)',
    applied: (sip) => /veilphoneAfter423/.test(sourceOf(sip.Registerer)) && /2147483/.test(sourceOf(sip.Registerer)),
  },
];

export class SipJsPatchError extends Error {
  override readonly name = 'SipJsPatchError';
  readonly code = 'SIPJS_NOT_PATCHED';
  constructor(
    /** The missing patches, by the name of their script in tools/postinstall. */
    readonly patches: string[],
    message: string,
  ) {
    super(message);
  }
}

/** The patches this sip.js lacks (none when the install ran its scripts). */
export function missingSipJsPatches(sip: SipJsParts = installed): string[] {
  return patches.filter((patch) => !patch.applied(sip)).map((patch) => patch.name);
}

let checkedInstalled = false;

/**
 * Refuse to run on a sip.js the install did not patch (`npm install --ignore-scripts`, a copied node_modules): it would
 * put linkable Math.random identifiers on the wire, or hang calls. Checked once per process for the installed one.
 */
export function assertSipJsPatched(sip: SipJsParts = installed): void {
  if (sip === installed && checkedInstalled) return;
  const missing = missingSipJsPatches(sip);
  if (missing.length > 0) {
    const list = patches.filter((p) => missing.includes(p.name)).map((p) => `${p.name} (${p.what})`);
    throw new SipJsPatchError(missing, `sip.js is not patched: ${list.join('; ')}; run npm install without --ignore-scripts (tools/postinstall/README.md)`);
  }
  if (sip === installed) checkedInstalled = true;
}
