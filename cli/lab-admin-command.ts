import { exitCodes } from './exit-codes.js';

/** What `veilphone lab-admin` can ask the lab's admin endpoint. */
export type LabAdminView = 'conversion' | 'bindings' | 'identify' | 'snapshot' | 'household';

/** The management server's database (seed 001 Fig. 5): each room's addresses, whose they are. */
interface HouseholdView {
  pool: { first: string; last: string; free: number };
  rooms: Record<string, { vacated: boolean; addresses: Array<{ address: string; number: string; state: string }> }>;
}

interface ConversionRecordView {
  anonymousUser?: string;
  realUser: string;
  shownAs?: string;
  realCallId: string;
  convertedCallId: string;
  since: string;
  /** The dialog ended; its entry lingers for late retransmissions. */
  ending?: boolean;
  endedAt?: string;
}

interface ConversionView {
  placement: string;
  records: ConversionRecordView[];
  recent?: ConversionRecordView[];
  counters: { converted: number; refused: Record<string, number> };
  poolInUse: number;
}

/**
 * `veilphone lab-admin URL [conversion|bindings|identify KEY|household|snapshot]`: the operator's view of a running
 * `veilphone lab --admin PORT`, without curl. URL is the admin address the lab printed (its token included).
 */
export async function labAdminCommand(url: string, view: string | undefined, key: string | undefined, options: { json?: boolean }): Promise<void> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    return fail(exitCodes.invalid, `"${url}" is not a URL; give the admin URL "veilphone lab --admin PORT" printed`);
  }
  const token = base.searchParams.get('token');
  if (!token) return fail(exitCodes.invalid, 'the admin URL carries no token (it is in the URL the lab printed: ...?token=…)');
  const chosen = (view ?? 'conversion') as LabAdminView;
  if (!['conversion', 'bindings', 'identify', 'snapshot', 'household'].includes(chosen)) return fail(exitCodes.invalid, `unknown view "${view}": conversion, bindings, identify KEY, household or snapshot`);
  if (chosen === 'identify' && !key) return fail(exitCodes.invalid, 'identify needs an AnonymousN or the Call-ID the callee was shown');
  const target = new URL(chosen === 'identify' ? '/conversion' : `/${chosen}`, base);
  if (chosen === 'identify') target.searchParams.set('identify', key!);
  let body: unknown;
  try {
    const response = await fetch(target, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    body = await response.json();
    if (response.status === 401) return fail(exitCodes.invalid, 'the lab refused the token (is this the URL of the running lab?)');
    if (!response.ok) return fail(exitCodes.environment, `the lab answered ${response.status}: ${JSON.stringify(body)}`);
  } catch (error) {
    return fail(exitCodes.environment, `cannot reach the lab's admin endpoint at ${target.origin}: ${(error as Error).message}`);
  }
  if (options.json || chosen === 'snapshot') {
    console.log(JSON.stringify(body, null, 2));
    if (chosen === 'identify' && body === null) process.exit(exitCodes.failed);
    return;
  }
  if (chosen === 'identify') {
    if (body === null) return fail(exitCodes.failed, `no conversion record for ${key}`);
    const r = body as ConversionRecordView;
    console.log(`${key} is ${r.realUser}${r.anonymousUser ? ` (shown as ${r.anonymousUser})` : ''}: Call-ID ${r.realCallId}, since ${r.since}${r.endedAt ? `, ended ${r.endedAt}` : r.ending ? ', ended' : ', in progress'}`);
    return;
  }
  if (chosen === 'bindings') {
    const bindings = body as Array<{ user: string; contact: string; transport: string; source: string; expiresInS: number }>;
    printTable(['user', 'contact', 'transport', 'source', 'expires'], bindings.map((b) => [b.user, b.contact, b.transport, b.source, `${b.expiresInS}s`]));
    return;
  }
  if (chosen === 'household') {
    const household = body as HouseholdView | null;
    if (household === null) return fail(exitCodes.failed, 'this lab runs no household building (veilphone lab --household ROOM=ADDRESSES)');
    console.log(`household building: pool ${household.pool.first}-${household.pool.last}, ${household.pool.free} address(es) no room has`);
    const rows = Object.entries(household.rooms).flatMap(([room, r]) => (r.addresses.length === 0 ? [[room, '-', '-', r.vacated ? 'vacated' : 'no addresses']] : r.addresses.map((a) => [room, a.address, a.number, a.state])));
    printTable(['room', 'address', 'number', 'state'], rows);
    return;
  }
  const conversion = body as ConversionView | null;
  if (conversion === null) return fail(exitCodes.failed, 'this lab runs no conversion server');
  const refused = Object.entries(conversion.counters.refused).map(([code, n]) => `${code} ${n}`).join(', ');
  console.log(`conversion server (${conversion.placement}): ${conversion.counters.converted} converted, ${conversion.poolInUse} anonymous names in use${refused ? `; refused: ${refused}` : ''}`);
  const row = (r: ConversionRecordView): string[] => [r.anonymousUser ?? '-', r.realUser, r.convertedCallId, r.since, r.endedAt ?? (r.ending ? 'ending' : 'live')];
  printTable(['anonymous', 'real caller', 'Call-ID shown', 'since', 'ended'], [...conversion.records.map(row), ...(conversion.recent ?? []).map(row)]);
}

function printTable(head: string[], rows: string[][]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const line of [head, ...rows]) console.log(line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

function fail(code: number, message: string): never {
  console.error(`veilphone lab-admin: ${message}`);
  process.exit(code);
}
