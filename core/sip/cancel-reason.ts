/**
 * RFC 3326 §2: a CANCEL's `Reason: SIP;cause=200;text="Call completed elsewhere"` says another branch of a forked call
 * answered it (RFC 3261 §16.7 step 10): the user answered on another phone, so the call is not a missed one.
 * Any Reason of protocol SIP with cause 200 counts, whatever its text; several Reason values may be comma-separated.
 */
export function completedElsewhere(reasons: readonly string[]): boolean {
  return reasons
    .flatMap((header) => header.split(','))
    .some((value) => {
      const [protocol, ...params] = value.split(';').map((part) => part.trim());
      if (protocol?.toUpperCase() !== 'SIP') return false;
      return params.some((param) => /^cause\s*=\s*200$/i.test(param));
    });
}
