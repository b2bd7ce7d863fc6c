// sip.js 0.21 writes the From of every request inside a dialog (ACK of a 2xx, BYE, re-INVITE, INFO, REFER, …) with
// its UserAgent's display name, not the one of the request that made the dialog. An anonymous call's INVITE says
// `From: "Anonymous" <sip:anonymous@anonymous.invalid>`, and its ACK and BYE then said
// `From: "Alice Liddell" <sip:anonymous@anonymous.invalid>`: the caller's name, to the callee, whenever no server
// rewrote it (issue 17 item 2; RFC 3323 §4.1.1.3 asks for an anonymous display name). RFC 3261 §12.2.1.1 makes a
// request's From the dialog's local URI; this patch keeps the display name with it, as it was in the INVITE we sent
// (or in the To of the INVITE we received), so every request of a dialog presents what its first one did.
import { applyPatch, isMain } from './sipjs-patch.js';

const marker = 'veilphone: dialog From display name';

const files = [
  {
    file: 'core/dialogs/dialog.js',
    replace: [
      [
        `        const localURI = outgoingRequestMessage.from.uri;
        const remoteURI = outgoingRequestMessage.to.uri;`,
        `        const localURI = outgoingRequestMessage.from.uri;
        const localDisplayName = outgoingRequestMessage.from.displayName; // ${marker}
        const remoteURI = outgoingRequestMessage.to.uri;`,
      ],
      [
        `        const localURI = incomingRequestMessage.to.uri;
        const dialogState = {`,
        `        const localURI = incomingRequestMessage.to.uri;
        const localDisplayName = incomingRequestMessage.to.displayName; // ${marker}
        const dialogState = {`,
      ],
      [
        `            remoteSequenceNumber,
            localURI,
            remoteURI,
            remoteTarget,
            routeSet,
            secure
        };
        return dialogState;
    }
    /**
     * The UAS then constructs the state of the dialog.`,
        `            remoteSequenceNumber,
            localURI,
            localDisplayName,
            remoteURI,
            remoteTarget,
            routeSet,
            secure
        };
        return dialogState;
    }
    /**
     * The UAS then constructs the state of the dialog.`,
      ],
      [
        `            remoteSequenceNumber,
            localURI,
            remoteURI,
            remoteTarget,
            routeSet,
            secure
        };
        return dialogState;
    }
    /** Destructor. */`,
        `            remoteSequenceNumber,
            localURI,
            localDisplayName,
            remoteURI,
            remoteTarget,
            routeSet,
            secure
        };
        return dialogState;
    }
    /** Destructor. */`,
      ],
      [
        `        const message = this.userAgentCore.makeOutgoingRequestMessage(method, ruri, fromUri, toUri, {
            callId,
            cseq,
            fromTag,
            toTag,
            routeSet
        }, extraHeaders, body);`,
        `        const message = this.userAgentCore.makeOutgoingRequestMessage(method, ruri, fromUri, toUri, Object.assign({
            callId,
            cseq,
            fromTag,
            toTag,
            routeSet
        }, typeof this.dialogState.localDisplayName === "string" ? { fromDisplayName: this.dialogState.localDisplayName } : {}), extraHeaders, body); // ${marker}`,
      ],
    ],
  },
];

export const dialogFromPatch = { marker, what: 'sip.js keeps the From display name of a dialog\'s first request in every later one', files };

if (isMain(import.meta.url)) applyPatch(dialogFromPatch);
