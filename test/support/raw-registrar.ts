import dgram from 'node:dgram';

/** What the raw registrar answers one REGISTER with: a status line's code and reason, and any more header lines. */
export interface RawAnswer {
  status: string;
  headers?: string[];
}

/** The REGISTER a raw registrar got: its text and when it came. */
export interface RawRegister {
  text: string;
  at: number;
  /** Its Contact header's value, as sent. */
  contact: string;
}

/**
 * A registrar on a bare UDP socket on 127.0.0.1, not our stack: it answers each REGISTER as `answer` says (copying
 * Via, From, To with a tag, Call-ID and CSeq, RFC 3261 §8.2.6.2), every OPTIONS 200, and keeps what it got. For
 * playing registrars that misbehave in ways the lab never would.
 */
export async function startRawRegistrar(answer: (register: RawRegister, index: number) => RawAnswer): Promise<{ uri: string; registers: RawRegister[]; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const registers: RawRegister[] = [];
  socket.on('message', (data, from) => {
    const text = data.toString();
    const method = /^(\w+) /.exec(text)?.[1];
    if (method !== 'REGISTER' && method !== 'OPTIONS') return;
    const lines = text.split('\r\n');
    const copied = ['via', 'from', 'to', 'call-id', 'cseq'].flatMap((name) => lines.filter((line) => line.toLowerCase().startsWith(`${name}:`)));
    const withTag = (line: string): string => (line.toLowerCase().startsWith('to:') ? `${line};tag=raw` : line);
    let reply: RawAnswer = { status: '200 OK' };
    if (method === 'REGISTER') {
      const register = { text, at: Date.now(), contact: /^contact:\s*(.*)$/im.exec(text)?.[1] ?? '' };
      registers.push(register);
      reply = answer(register, registers.length - 1);
    }
    socket.send([`SIP/2.0 ${reply.status}`, ...copied.map(withTag), ...(reply.headers ?? []), 'Content-Length: 0', '', ''].join('\r\n'), from.port, from.address);
  });
  return {
    uri: `sip:127.0.0.1:${socket.address().port}`,
    registers,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The Contact of a REGISTER as a 2xx lists it back, with `expires` (none: no parameter). */
export function boundContact(register: RawRegister, expires?: string): string {
  const bare = register.contact.replace(/;\s*expires=\d+/i, '');
  return `Contact: ${bare}${expires !== undefined ? `;expires=${expires}` : ''}`;
}
