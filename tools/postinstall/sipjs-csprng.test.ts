import { afterEach, describe, expect, it, vi } from 'vitest';
import { Core, Inviter, UserAgent, type Transport } from 'sip.js';

/** A transport that sends nothing: these tests only build requests. */
class SilentTransport {
  readonly protocol = 'UDP';
  state = 'Connected';
  connect = async (): Promise<void> => undefined;
  disconnect = async (): Promise<void> => undefined;
  send = async (): Promise<void> => undefined;
  isConnected = (): boolean => true;
  dispose = async (): Promise<void> => undefined;
}

function userAgent(): UserAgent {
  return new UserAgent({
    uri: UserAgent.makeURI('sip:alice@home.lab'),
    transportConstructor: SilentTransport as unknown as new () => Transport,
    logConfiguration: false,
    logLevel: 'error',
  });
}

describe('the sip.js CSPRNG patch (tools/postinstall/sipjs-csprng.js)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('leaves no wire identifier to Math.random: with it stuck at 0, tags, branches, contact users and instance ids still differ', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const ua = userAgent();
    const other = userAgent();
    const target = UserAgent.makeURI('sip:bob@home.lab')!;
    const tags = [ua, ua, other].map((agent) => new Inviter(agent, target).request.fromTag);
    expect(new Set(tags).size).toBe(3);
    for (const tag of tags) expect(tag).toMatch(/^[0-9a-v]{10}$/);

    // The branch of every client transaction (private in sip.js's types, patched all the same).
    const { makeId } = Core.ClientTransaction as unknown as { makeId(request: { method: string }): string };
    const branches = Array.from({ length: 3 }, () => makeId({ method: 'INVITE' }));
    expect(new Set(branches).size).toBe(3);
    for (const branch of branches) expect(branch).toMatch(/^z9hG4bK[0-9a-f]{32}$/); // RFC 3261 §8.1.1.7: unique, 128 bits

    expect(ua.instanceId).not.toBe(other.instanceId);
    expect(ua.instanceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ua.contact.uri.user).not.toBe(other.contact.uri.user);
  });
});
