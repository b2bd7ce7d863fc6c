import type { Contact } from '../api/contact-types.js';
import { PhoneError } from '../api/phone-error.js';
import type { CallRequest, CallSnapshot } from '../api/phone-types.js';
import { presentByDefault } from '../privacy/anonymity.js';
import { planCallPrivacy } from '../privacy/call-privacy.js';
import { matchDialRules } from '../privacy/dial-plan.js';
import { uriUser, type SipCall } from '../sip/sip-call.js';
import { formatEndpoint } from '../sip/transport/endpoint.js';
import type { CallControl } from './call-control.js';
import { dialTargetToUri } from './dial-target.js';
import type { AccountRuntime } from './phone-accounts.js';
import { partyFrom, PhoneCall, signalingOf } from './phone-call.js';
import type { EmitPhoneEvent } from './phone-events.js';
import { leaseStatus, type PhoneLease } from './phone-lease.js';

export interface OutgoingCallsOptions {
  calls: CallControl;
  /** Calls at once, incoming and outgoing. */
  maxCalls: number;
  /** The account to call from (the first when none is named); refuses when the phone is shut down. */
  account: (accountId: string | undefined) => AccountRuntime;
  /** Settles once accounts moving onto a new lease are there again. */
  leaseMoving: () => Promise<void> | undefined;
  /** Settles once what a crashed earlier run left is cleaned up. */
  recovered: () => Promise<void>;
  lease: () => PhoneLease | undefined;
  emit: EmitPhoneEvent;
  /** The address-book entry a dialled number belongs to (its "always call anonymously" is honoured). */
  contactFor?: (number: string) => Contact | undefined;
}

/** Places outgoing calls: the dial string through the privacy plan to an INVITE from the account's sending identity. */
export class OutgoingCalls {
  constructor(private readonly options: OutgoingCallsOptions) {}

  /**
   * `extraHeaders`: what a transfer adds to the INVITE (Replaces, Referred-By). A 3xx is followed by the call itself
   * (SipCall, RFC 3261 §8.1.3.4), with the same From and so the same anonymity.
   */
  /**
   * The contact the user dialled, however the address was written: `bob`, `bob@host`, `sip:bob@host`, a pasted
   * `"Bob" <sip:bob@host>` all reach the same party, so each finds a contact saved under any of them
   * (its "always anonymous" must hold whichever the user typed: the second review found `bob@host` presenting a
   * withheld contact). Where several contacts match, one that is always anonymous wins (the third review).
   */
  private contactDialled(dialled: string, domain: string): Contact | undefined {
    const find = this.options.contactFor;
    if (!find) return undefined;
    const forms = [dialled];
    try {
      const uri = dialTargetToUri(dialled, domain);
      forms.push(uri);
      const userAtHost = uri.replace(/^sips?:/i, '').replace(/[;?].*$/, '');
      const at = userAtHost.lastIndexOf('@');
      if (at > 0) {
        forms.push(userAtHost);
        // the bare user names a party at the account's own domain only
        if (userAtHost.slice(at + 1).toLowerCase() === domain.toLowerCase()) forms.push(userAtHost.slice(0, at));
      }
    } catch {
      // not an address at all: the call itself says so
    }
    const found = [...new Set(forms)].map((form) => find(form)).filter((c): c is Contact => c !== undefined);
    return found.find((c) => c.anonymous) ?? found[0];
  }

  async call(request: CallRequest, extraHeaders: string[] = []): Promise<CallSnapshot> {
    await this.options.leaseMoving(); // accounts moving onto a new lease are not there to call from
    const account = this.options.account(request.accountId);
    const calls = this.options.calls;
    if (calls.size >= this.options.maxCalls) throw new PhoneError('TOO_MANY_CALLS', `${calls.size} calls are going on, the most this phone takes at once`);
    const config = account.config;
    // Issue 22 item 5: a contact to be called anonymously is, whatever the dialer's switch said; a typed 186 still
    // presents (the dial rule decides over the choice, core/privacy).
    const contact = this.contactDialled(matchDialRules(request.target, config.dialRules).rest, account.domain);
    if (contact?.anonymous && (request.anonymity === undefined || request.anonymity === 'default' || request.anonymity === 'none')) {
      request = { ...request, anonymity: config.anonymity?.mode ?? 'header' };
    }
    // SPEC A: the dial string, this call's choice and the account default decide what the INVITE presents.
    const privacy = planCallPrivacy({
      dialString: request.target,
      account: config.anonymity ?? presentByDefault,
      identity: { user: config.user, domain: account.domain },
      ...(request.anonymity !== undefined ? { anonymity: request.anonymity } : {}),
      ...(request.anonymityLevel !== undefined ? { level: request.anonymityLevel } : {}),
      ...(config.dialRules ? { rules: config.dialRules } : {}),
    });
    const uri = dialTargetToUri(privacy.target, account.domain);
    const shownUri = dialTargetToUri(matchDialRules(request.target, config.dialRules).rest, account.domain);
    await this.options.recovered();
    // Seed 003: a call that cannot fit in the leased range is refused before anything is sent; so is any call once
    // the lease is gone (RFC 2131 §4.4.5: the client must stop using it).
    const lease = this.options.lease();
    if (lease && leaseStatus(lease).state === 'lost') throw new PhoneError('LEASE_LOST', `the DHCP lease of ${lease.privateAddress} (ports ${lease.pool.range.min}-${lease.pool.range.max}) is gone; calls wait for a new one`);
    const needsSipPort = config.address?.mode === 'temporary';
    if (lease && !lease.pool.canFit({ rtpPairs: 1, ...(needsSipPort ? { sip: [config.transport] } : {}) })) {
      throw new PhoneError('PORT_RANGE_EXHAUSTED', `no room for another call in the leased ports ${lease.pool.range.min}-${lease.pool.range.max}`);
    }
    // Seed 000 Fig. 28: in temporary mode a fresh address, registered, carries this one call.
    const lent = await account.identities.forCall();
    let sip: SipCall;
    try {
      sip = lent.identity.createCall(uri, {
        extraHeaders: [...privacy.extraHeaders, ...extraHeaders],
        ...(privacy.from ? { fromUri: privacy.from.uri, fromDisplayName: privacy.from.display } : {}),
        anonymous: privacy.mode !== 'none',
        // RFC 4028 §7.1, as the account asks; never in an anonymous call, where an interval the user chose would tell
        // their anonymous calls apart from every other caller's. (A 422 to one, after a proxy asked for a timer, is
        // followed: the interval it asks for then is the network's, the same for every caller.)
        ...(config.sessionExpires && privacy.mode === 'none' ? { sessionExpires: config.sessionExpires } : {}),
      });
    } catch (error) {
      await lent.finish();
      throw new PhoneError('CALL_FAILED', (error as Error).message);
    }
    const call = new PhoneCall(config.id, sip, partyFrom({ uri: shownUri, ...(uriUser(shownUri) !== undefined ? { user: uriUser(shownUri)! } : {}) }), formatEndpoint(lent.identity.local), request.target);
    call.localAddress = lent.address;
    call.anonymity = privacy.mode;
    if (privacy.level !== undefined) call.anonymityLevel = privacy.level;
    call.sent = sip.sentHeaders();
    call.signaling = signalingOf(lent.identity);
    calls.track(account, call);
    void sip.whenEnded().then(() => lent.finish().catch((error: Error) => this.options.emit({ type: 'error', code: 'ADDRESS_FAILED', message: error.message })));
    void sip.invite().catch((error: Error) => this.options.emit({ type: 'error', code: 'CALL_FAILED', message: error.message }));
    return call.snapshot();
  }
}
