/**
 * The autologout timer (RFC 9051 §5.4): a session with no input for its timeout — at least 30
 * minutes once authenticated, shorter before — is logged out. A command still running counts as
 * activity; an IDLE that waits does not.
 */
export class Autologout {
  private lastActivity = Date.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timeoutMs: () => number,
    private readonly busy: () => boolean,
    private readonly expire: () => void,
  ) {}

  touch(): void {
    this.lastActivity = Date.now();
  }

  start(): void {
    this.stop();
    const remaining = this.lastActivity + this.timeoutMs() - Date.now();
    this.timer = setTimeout(() => this.check(), Math.max(10, remaining));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private check(): void {
    this.timer = null;
    if (this.busy()) this.touch();
    if (Date.now() - this.lastActivity >= this.timeoutMs()) this.expire();
    else this.start();
  }
}
