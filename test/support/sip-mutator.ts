/**
 * Deterministic mutations of SIP messages for robustness tests: bytes dropped, inserted, flipped, lines repeated or
 * swollen, messages cut short. A seeded generator, so a failure names the seed that reproduces it.
 */
export class SipMutator {
  private state: number;

  constructor(seed: number) {
    this.state = seed & 0x7fffffff || 1;
  }

  /** A number in [0, 1) (an LCG: fine for test inputs, not for anything secret). */
  random(): number {
    this.state = (this.state * 1103515245 + 12345) & 0x7fffffff;
    return this.state / 0x80000000;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  /** One to four mutations of `message`, as bytes (latin1, so every byte value can appear). */
  mutate(message: string): Buffer {
    let text = message;
    const count = 1 + Math.floor(this.random() * 4);
    for (let i = 0; i < count; i++) {
      const at = Math.floor(this.random() * text.length);
      const lines = text.split('\r\n');
      const line = Math.floor(this.random() * lines.length);
      switch (Math.floor(this.random() * 6)) {
        case 0:
          text = text.slice(0, at) + text.slice(at + 1 + Math.floor(this.random() * 10));
          break;
        case 1:
          text = text.slice(0, at) + this.pick(fragments) + text.slice(at);
          break;
        case 2:
          text = text.slice(0, at);
          break;
        case 3:
          lines.splice(line, 0, lines[Math.floor(this.random() * lines.length)]!);
          text = lines.join('\r\n');
          break;
        case 4:
          text = text.slice(0, at) + String.fromCharCode(Math.floor(this.random() * 256)) + text.slice(at + 1);
          break;
        default:
          lines[line] = lines[line]! + this.pick(fragments).repeat(1 + Math.floor(this.random() * 50));
          text = lines.join('\r\n');
      }
    }
    return Buffer.from(text, 'latin1');
  }
}

/** What an attacker likes to insert: separators, quotes, escapes, huge numbers, and whole headers. */
const fragments = [
  '\r\n', ';', ',', '<', '>', '"', '\\', ':', '@', '=', '%', '%0', '[', ']', '::', '..', ' ', '\t', '\0', '\u00ff',
  '9999999999999999999', '-1', '0', 'z9hG4bK', 'tag=', ';lr', ';vp-rs=', ';maddr=', 'sip:', 'sips:', 'tel:',
  'Content-Length: 99999\r\n', 'Via: SIP/2.0/UDP\r\n', 'CSeq: 1 ACK\r\n', 'To: <sip:a@b>;tag=x\r\n', 'Route: <sip:127.0.0.1;lr>\r\n',
];
