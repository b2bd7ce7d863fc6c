import { describe, expect, it } from 'vitest';
import { RoomAllotment } from './room-allotment.js';

const room = '100-1101-1201';
const addresses = ['127.77.0.1', '127.77.0.2', '127.77.0.3', '127.77.0.4'];

describe("a room gateway's allotment (seed 001 ¶[57], ¶[64], Figs. 10 and 12)", () => {
  it('terminal N gets the (N+1)-th address and number -N, lowest first; the first address is never dealt', () => {
    const allotment = new RoomAllotment(room);
    allotment.add(addresses);
    const t1 = allotment.offer('aa', 1000)!;
    expect(t1).toMatchObject({ index: 1, address: '127.77.0.2', number: '100-1101-1201-1', state: 'offered' });
    expect(allotment.offer('aa', 1000)).toEqual(t1); // asking again: the same offer
    expect(allotment.bind('aa')).toMatchObject({ state: 'bound', number: '100-1101-1201-1' });
    expect(allotment.offer('bb', 1000)).toMatchObject({ address: '127.77.0.3', number: '100-1101-1201-2' });
    expect(allotment.bound().map((a) => a.number)).toEqual(['100-1101-1201-1']);
    expect(allotment.unallotted()).toEqual(['127.77.0.4']);
  });

  it('a withdrawn terminal\'s address and number go to the next terminal that asks (Fig. 12)', () => {
    const allotment = new RoomAllotment(room);
    allotment.add(addresses);
    for (const client of ['aa', 'bb', 'cc']) {
      allotment.offer(client, 1000);
      allotment.bind(client);
    }
    expect(allotment.offer('dd', 1000)).toBeUndefined(); // none left: step 101 → 102
    expect(allotment.free('bb')).toMatchObject({ number: '100-1101-1201-2', address: '127.77.0.3' });
    expect(allotment.offer('dd', 1000)).toMatchObject({ number: '100-1101-1201-2', address: '127.77.0.3' });
    allotment.add(['127.77.0.9']); // step 102: the management server gave one more
    expect(allotment.offer('ee', 1000)).toMatchObject({ number: '100-1101-1201-4', address: '127.77.0.9' });
  });

  it('an offer never taken lapses; a terminal may ask for the address it stored', () => {
    let now = 0;
    const allotment = new RoomAllotment(room, () => now);
    allotment.add(addresses);
    allotment.offer('aa', 1000);
    now = 1000;
    expect(allotment.of('aa')).toBeUndefined();
    expect(allotment.offer('bb', 1000, '127.77.0.4')).toMatchObject({ index: 3 });
    expect(allotment.offer('cc', 1000, '127.77.0.1')).toMatchObject({ index: 1 }); // the gateway's own is never given
  });

  it('Fig. 11: clearing gives every address up', () => {
    const allotment = new RoomAllotment(room);
    allotment.add(addresses);
    allotment.offer('aa', 1000);
    allotment.bind('aa');
    expect(allotment.clear()).toEqual(addresses);
    expect(allotment.addresses).toEqual([]);
    expect(allotment.bound()).toEqual([]);
  });
});
