import { describe, expect, it } from 'vitest';
import { completedElsewhere } from './cancel-reason.js';

describe('RFC 3326 Reason on a CANCEL', () => {
  it('cause 200 of protocol SIP means another branch answered', () => {
    expect(completedElsewhere(['SIP;cause=200;text="Call completed elsewhere"'])).toBe(true);
    expect(completedElsewhere(['sip ; cause = 200'])).toBe(true);
    expect(completedElsewhere(['Q.850;cause=16, SIP;cause=200;text="x"'])).toBe(true);
  });

  it('anything else does not', () => {
    expect(completedElsewhere([])).toBe(false);
    expect(completedElsewhere(['Q.850;cause=200'])).toBe(false);
    expect(completedElsewhere(['SIP;cause=487;text="Request Terminated"'])).toBe(false);
    expect(completedElsewhere(['SIP;cause=2000'])).toBe(false);
    expect(completedElsewhere(['garbage'])).toBe(false);
  });
});
