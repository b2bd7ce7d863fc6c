import { describe, expect, it } from 'vitest';
import { notifiedTransfer } from './call-transfer.js';

describe('a transferor reading the NOTIFYs of its transfer (RFC 3515 §2.4.5)', () => {
  it('follows the new call until a final status: with terminated, and under a subscription left active (linphonec\'s 481)', () => {
    expect(notifiedTransfer({ state: 'requested' }, 'SIP/2.0 100 Trying\r\n', 'active;expires=60')).toEqual({ state: 'trying', status: 100 });
    expect(notifiedTransfer({ state: 'trying', status: 100 }, 'SIP/2.0 180 Ringing\r\n', 'active')).toEqual({ state: 'trying', status: 180 });
    expect(notifiedTransfer({ state: 'trying', status: 180 }, 'SIP/2.0 200 OK\r\n', 'terminated;reason=noresource')).toEqual({ state: 'succeeded', status: 200 });
    expect(notifiedTransfer({ state: 'trying', status: 100 }, 'SIP/2.0 486 Busy Here\r\n', 'terminated')).toEqual({ state: 'failed', status: 486 });
    // linphonec: the failure, but the subscription still active
    expect(notifiedTransfer({ state: 'trying', status: 100 }, 'SIP/2.0 481 Call/Transaction Does Not Exist\r\n', 'active;expires=600')).toEqual({ state: 'failed', status: 481 });
    // a terminated subscription without a final status line: the transfer did not succeed
    expect(notifiedTransfer({ state: 'trying', status: 180 }, '', 'terminated;reason=timeout')).toEqual({ state: 'failed', status: 180 });
  });
});
