/**
 * Which of several UI connections (browser tabs on one `veilphone serve`) has the phone's audio: the first to ask for
 * it, until it lets go or closes; then the next that asked. Only that one's microphone reaches the call and only it
 * plays the far end: two tabs both fed their microphones into the call and both played it (the UI review). Before
 * anyone has asked, a connection's microphone is taken (one tab: its frames may come just before its request).
 */
export class AudioOwnership<Connection> {
  private owner: Connection | undefined;
  private readonly waiting: Connection[] = [];

  constructor(
    /** `connection` has the audio now: send it the far end. */
    private readonly grant: (connection: Connection) => void,
    /** `connection` no longer has it: stop sending. */
    private readonly revoke: (connection: Connection) => void,
  ) {}

  want(connection: Connection): void {
    if (this.owner === connection || this.waiting.includes(connection)) return;
    if (this.owner !== undefined) {
      this.waiting.push(connection);
      return;
    }
    this.owner = connection;
    this.grant(connection);
  }

  release(connection: Connection): void {
    const queued = this.waiting.indexOf(connection);
    if (queued >= 0) this.waiting.splice(queued, 1);
    if (this.owner !== connection) return;
    this.revoke(connection);
    this.owner = this.waiting.shift();
    if (this.owner !== undefined) this.grant(this.owner);
  }

  mayCapture(connection: Connection): boolean {
    return this.owner === undefined || this.owner === connection;
  }
}
