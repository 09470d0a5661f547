// One SSH connection per host, shared by everything mnt does there: the probe, the deploy and the
// agents (each an exec channel on it). Whoever needs the host asks `get()`: the connection that is
// open, or a new one when it was lost (a cut link, a crashed host), made the same way as the first.
import { connectSsh, type SshConnectOptions, type SshSession } from "./connect.ts";

export class HostSession {
  private current: SshSession | null = null;
  private opening: Promise<SshSession> | null = null;
  private closed = false;

  constructor(
    readonly address: string,
    readonly options: SshConnectOptions,
  ) {}

  get label(): string {
    return this.options.label;
  }

  /** The open connection, or a new one (concurrent callers share one attempt). */
  get(): Promise<SshSession> {
    if (this.closed) return Promise.reject(new Error(`${this.label}: the SSH connection was closed for good`));
    if (this.current) return Promise.resolve(this.current);
    this.opening ??= connectSsh(this.address, this.options).then(
      (session) => {
        this.opening = null;
        if (this.closed) {
          session.close();
          throw new Error(`${this.label}: the SSH connection was closed for good`);
        }
        this.adopt(session);
        return session;
      },
      (error: unknown) => {
        this.opening = null;
        throw error;
      },
    );
    return this.opening;
  }

  /** Drops a connection that misbehaves (e.g. an agent that would not exit): the next get() opens another. */
  reset(session: SshSession): void {
    if (this.current === session) this.current = null;
    session.close();
  }

  /** Ends the connection; later get()s fail. */
  close(): void {
    this.closed = true;
    this.current?.close();
    this.current = null;
  }

  private adopt(session: SshSession): void {
    this.current = session;
    session.onClose(() => {
      if (this.current === session) this.current = null;
    });
  }
}
