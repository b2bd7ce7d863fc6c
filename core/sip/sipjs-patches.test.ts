import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as SipJs from 'sip.js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { sipJsPartsOf, unpatchedSipJsLib, type SipJsPatchName } from '../../test/support/unpatched-sipjs.js';
import { Phone } from '../phone/phone.js';
import { assertSipJsPatched, missingSipJsPatches, SipJsPatchError, type SipJsParts } from './sipjs-patches.js';

/** This file's `sip.js` is a copy of the installed one with every install-time patch undone (--ignore-scripts). */
const copy = vi.hoisted(() => ({ lib: '' }));
vi.mock('sip.js', async () => {
  const { unpatchedSipJsLib } = await import('../../test/support/unpatched-sipjs.js');
  copy.lib = unpatchedSipJsLib(['sipjs-csprng', 'sipjs-reinvite-ack-timeout', 'sipjs-reinvite-ack-matching', 'sipjs-dialog-from', 'sipjs-ack-timeout-after-bye', 'sipjs-deferred-trying', 'sipjs-fault-guard', 'sipjs-cancel-to-tag', 'sipjs-contactless-provisional', 'sipjs-merged-request-index', 'sipjs-headerize-cache', 'sipjs-update', 'sipjs-grammar-cache', 'sipjs-inviter-from-tag', 'sipjs-register-answers', 'sipjs-unusable-2xx']);
  return import(pathToFileURL(path.join(copy.lib, 'index.js')).href);
});

describe('the install-time sip.js patches, checked at run time (tools/postinstall)', () => {
  afterAll(() => fs.rmSync(path.dirname(copy.lib), { recursive: true, force: true }));

  /** The installed (patched) sip.js, as the phone has it everywhere else. */
  async function installed(): Promise<SipJsParts> {
    const real = await vi.importActual<typeof SipJs>('sip.js');
    const { createRandomToken, headerize } = await import('sip.js/lib/core/messages/utils.js');
    const userAgentCore = (await import('sip.js/lib/core/user-agent-core/user-agent-core.js')) as Record<string, unknown>;
    const { parse } = await import('sip.js/lib/grammar/pegjs/dist/grammar.js');
    const { AllowedMethods } = await import('sip.js/lib/core/user-agent-core/allowed-methods.js');
    return {
      UserAgent: real.UserAgent as unknown as SipJsParts['UserAgent'],
      UserAgentConstructor: real.UserAgent,
      ClientTransaction: real.Core.ClientTransaction as unknown as SipJsParts['ClientTransaction'],
      InviteClientTransaction: real.Core.InviteClientTransaction,
      SessionDialog: real.Core.SessionDialog,
      Dialog: real.Core.Dialog as unknown as SipJsParts['Dialog'],
      Inviter: real.Inviter,
      Invitation: real.Invitation,
      UserAgentCore: real.Core.UserAgentCore,
      InviteServerTransaction: real.Core.InviteServerTransaction,
      InviteUserAgentClient: real.Core.InviteUserAgentClient,
      createRandomToken,
      headerize,
      UserAgentServers: userAgentCore.VeilphoneUserAgentServers as SipJsParts['UserAgentServers'],
      grammarParse: parse as SipJsParts['grammarParse'],
      AllowedMethods,
      Registerer: real.Registerer,
    };
  }

  it('finds every patch in the installed sip.js', async () => {
    const parts = await installed();
    expect(missingSipJsPatches(parts)).toEqual([]);
    expect(() => assertSipJsPatched(parts)).not.toThrow();
  });

  it('names each patch a sip.js lacks, with a typed error', async () => {
    const patched = await installed();
    const bare = await sipJsPartsOf(copy.lib);
    // patches that change a class another patch changes too: a copy of sip.js without that one patch alone
    const partsWithout = async (name: SipJsPatchName): Promise<SipJsParts> => {
      const lib = unpatchedSipJsLib([name]);
      return sipJsPartsOf(lib).finally(() => fs.rmSync(path.dirname(lib), { recursive: true, force: true }));
    };
    const withoutAckMatching = await partsWithout('sipjs-reinvite-ack-matching');
    const withoutAckTimeout = await partsWithout('sipjs-reinvite-ack-timeout');
    const withoutFromTag = await partsWithout('sipjs-inviter-from-tag');
    const withoutUpdate = await partsWithout('sipjs-update');
    const withoutContactless = await partsWithout('sipjs-contactless-provisional');
    const withoutUnusable2xx = await partsWithout('sipjs-unusable-2xx');
    const withoutRegisterAnswers = await partsWithout('sipjs-register-answers');
    expect(missingSipJsPatches(bare)).toEqual(['sipjs-csprng', 'sipjs-reinvite-ack-timeout', 'sipjs-reinvite-ack-matching', 'sipjs-dialog-from', 'sipjs-ack-timeout-after-bye', 'sipjs-fault-guard', 'sipjs-cancel-to-tag', 'sipjs-contactless-provisional', 'sipjs-deferred-trying', 'sipjs-merged-request-index', 'sipjs-headerize-cache', 'sipjs-update', 'sipjs-grammar-cache', 'sipjs-inviter-from-tag', 'sipjs-unusable-2xx', 'sipjs-register-answers']);
    // each patch alone: the patched sip.js with that patch's parts taken from the bare copy
    const without = {
      'sipjs-csprng': { ...patched, UserAgent: bare.UserAgent, ClientTransaction: bare.ClientTransaction, InviteClientTransaction: bare.InviteClientTransaction, createRandomToken: bare.createRandomToken },
      // both patch SessionDialog: the timeout's check also reads Inviter, and the matching one a copy without it alone
      'sipjs-reinvite-ack-timeout': { ...patched, Inviter: withoutAckTimeout.Inviter },
      'sipjs-reinvite-ack-matching': { ...patched, SessionDialog: withoutAckMatching.SessionDialog },
      'sipjs-dialog-from': { ...patched, Dialog: bare.Dialog },
      'sipjs-ack-timeout-after-bye': { ...patched, Invitation: bare.Invitation },
      'sipjs-fault-guard': { ...patched, InviteServerTransaction: bare.InviteServerTransaction },
      'sipjs-cancel-to-tag': { ...patched, UserAgentCore: bare.UserAgentCore },
      'sipjs-contactless-provisional': { ...patched, InviteUserAgentClient: withoutContactless.InviteUserAgentClient },
      'sipjs-deferred-trying': { ...patched, UserAgentConstructor: bare.UserAgentConstructor },
      'sipjs-merged-request-index': { ...patched, UserAgentServers: bare.UserAgentServers },
      'sipjs-headerize-cache': { ...patched, headerize: bare.headerize },
      'sipjs-grammar-cache': { ...patched, grammarParse: bare.grammarParse },
      'sipjs-inviter-from-tag': { ...patched, Inviter: withoutFromTag.Inviter },
      'sipjs-update': { ...patched, SessionDialog: withoutUpdate.SessionDialog, AllowedMethods: withoutUpdate.AllowedMethods },
      // the Registerer also has the fault guard's timers: a copy without this patch alone
      'sipjs-register-answers': { ...patched, Registerer: withoutRegisterAnswers.Registerer },
      // the contactless-provisional patch changes the same class: a copy without this patch alone
      'sipjs-unusable-2xx': { ...patched, InviteUserAgentClient: withoutUnusable2xx.InviteUserAgentClient },
    };
    for (const [patch, parts] of Object.entries(without)) {
      expect(missingSipJsPatches(parts), patch).toEqual([patch]);
      let error: unknown;
      try {
        assertSipJsPatched(parts);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SipJsPatchError);
      expect(error).toMatchObject({ code: 'SIPJS_NOT_PATCHED', patches: [patch], message: expect.stringContaining(`${patch} (`) });
    }
  });

  it('a Phone on an unpatched sip.js refuses to start', () => {
    // The deep-imported grammar is still the installed one here; what this file's `sip.js` lacks is named.
    expect(() => new Phone({ accounts: [], createSessionDescriptionHandlerFactory: () => staticSdhFactory() })).toThrow(
      expect.objectContaining({ code: 'SIPJS_NOT_PATCHED', patches: ['sipjs-csprng', 'sipjs-reinvite-ack-timeout', 'sipjs-reinvite-ack-matching', 'sipjs-dialog-from', 'sipjs-ack-timeout-after-bye', 'sipjs-fault-guard', 'sipjs-cancel-to-tag', 'sipjs-contactless-provisional', 'sipjs-deferred-trying', 'sipjs-update', 'sipjs-inviter-from-tag', 'sipjs-unusable-2xx', 'sipjs-register-answers'] }),
    );
  });
});
