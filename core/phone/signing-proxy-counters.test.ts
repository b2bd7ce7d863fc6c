import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../lab/admin-server.js';
import { Lab } from '../../lab/lab.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import { until } from '../../test/support/until.js';
import { CallHistory } from './call-history.js';
import { readSigningProxy } from './signing-proxy-counters.js';

/** SPEC E: the phone reads the signing proxy's failure counters from the lab's admin view for the diagnostics pane. */
describe('the signing proxy\'s failure counters, as the phone reads them', () => {
  let lab: Lab;
  let plain: Lab;
  let admin: AdminServer;
  let plainAdmin: AdminServer;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-proxy-counters-'));

  beforeAll(async () => {
    lab = await Lab.start({ signing: true });
    plain = await Lab.start({});
    admin = await AdminServer.start({ routes: { '/snapshot': () => lab.snapshot() } });
    plainAdmin = await AdminServer.start({ routes: { '/snapshot': () => plain.snapshot() } });
    // 12 forged in-dialog BYEs in one burst: each is dropped (no route-set signature), the 11th crosses the threshold
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const port = Number(/:(\d+);/.exec(lab.servers.udp!)![1]);
    for (let i = 0; i < 12; i++) {
      const bye = `BYE sip:bob@127.0.0.1:9 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${socket.address().port};branch=z9hG4bKforged${i}\r\nRoute: <sip:127.0.0.1:${port};transport=udp;lr>\r\nFrom: <sip:m@127.0.0.1>;tag=f${i}\r\nTo: <sip:bob@127.0.0.1>;tag=t${i}\r\nCall-ID: forged-${i}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n`;
      await new Promise<void>((resolve) => socket.send(bye, port, '127.0.0.1', () => resolve()));
    }
    socket.close();
    await until(() => (lab.snapshot().sip.signing?.failures.total ?? 0) === 12);
  });

  afterAll(async () => {
    await Promise.all([admin.stop(), plainAdmin.stop()]);
    await Promise.all([lab.stop(), plain.stop()]);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('reads total, by family and verdict, the rate against the threshold and the alerts from the admin view', async () => {
    const url = `${admin.url}snapshot?token=${admin.token}`;
    const reading = await readSigningProxy({ adminUrl: url }, () => 42);
    expect(reading).toMatchObject({ readAt: 42, from: `${admin.url}snapshot` }); // the token is not repeated
    if (!('counters' in reading)) throw new Error(reading.problem);
    expect(reading.counters).toMatchObject({ total: 12, byFamily: { 'route-set': 12 }, byVerdict: { missing: 12 }, threshold: 10 });
    expect(reading.counters.peakPerSecond).toBeGreaterThan(10);
    expect(reading.counters.alerts).toHaveLength(1);
    expect(reading.counters.alerts[0]).toMatchObject({ threshold: 10, last: { family: 'route-set', verdict: 'missing' } });
    expect(reading.counters.alerts[0]!.last.message).toMatch(/^BYE /);
  });

  it('says why when the counters cannot be read: a wrong token, a lab that does not sign, nobody listening', async () => {
    expect(await readSigningProxy({ adminUrl: `${admin.url}snapshot?token=wrong` })).toEqual({ problem: 'the admin view answered 401', from: `${admin.url}snapshot` });
    expect(await readSigningProxy({ adminUrl: `${plainAdmin.url}snapshot?token=${plainAdmin.token}` })).toMatchObject({ problem: 'the proxy does not sign routing headers' });
    const gone = await AdminServer.start({ routes: {} });
    const url = `${gone.url}snapshot?token=${gone.token}`;
    await gone.stop();
    expect(await readSigningProxy({ adminUrl: url })).toMatchObject({ problem: expect.stringMatching(/^cannot read the admin view: /) });
    expect(await readSigningProxy({ name: 'a lab', failures: () => ({ total: -1 }) })).toMatchObject({ problem: expect.stringMatching(/^the proxy's counters are not in the expected form/) });
  });

  it('a call shown in the diagnostics pane carries the counters read at that moment', async () => {
    const store = CallLogStore.open(path.join(scratch, 'calls.sqlite'));
    try {
      store.startCall({ id: 'c1', accountId: 'alice', direction: 'outgoing', sipCallId: 'x', remoteShown: 'Bob', remoteUri: 'sip:bob@lab', remoteAnonymous: false, startedAt: 1 });
      const withProxy = new CallHistory(store, undefined, { name: 'the embedded lab', failures: () => lab.snapshot().sip.signing?.failures });
      const detail = await withProxy.callDetail('c1');
      expect(detail?.signingProxy).toMatchObject({ from: 'the embedded lab', counters: { total: 12, alerting: expect.any(Boolean) } });
      expect((await new CallHistory(store).callDetail('c1'))?.signingProxy).toBeUndefined();
    } finally {
      store.close();
    }
  });
});
