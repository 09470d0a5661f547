// ssh2's SFTP client as promises, on a channel that fails every request once it is gone: ssh2
// silently drops a request sent on a closed channel and never calls it back, so a push cut off
// mid-way would wait forever for the writes, closes and renames it issues after the loss.
import type { SFTPWrapper } from "ssh2";
import type { SshSession } from "../../core/connections/ssh/connect.ts";

type Callback<T> = (error: Error | null | undefined, value: T) => void;

export class SftpChannel {
  private gone: Error | null = null;
  /** Why the channel is gone (lost or ended), or null while it is open. */
  get lost(): Error | null {
    return this.gone;
  }
  private readonly waiting = new Set<(error: Error) => void>();

  constructor(readonly sftp: SFTPWrapper) {
    const lost = () => this.fail(new Error("the SFTP channel closed (connection lost?)"));
    sftp.once("end", lost);
    sftp.once("close", lost);
  }

  /** Runs one ssh2 request and settles with its callback, or with the channel's loss. */
  call<T = void>(start: (callback: Callback<T>) => void): Promise<T> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      try {
        start((error, value) => {
          this.waiting.delete(reject);
          if (error) reject(error);
          else resolve(value);
        });
      } catch (error) {
        // ssh2 throws for an extension the server lacks.
        this.waiting.delete(reject);
        reject(error);
      }
    });
  }

  end(): void {
    this.fail(new Error("the SFTP channel was closed"));
    this.sftp.end();
  }

  private fail(error: Error): void {
    if (this.gone) return;
    this.gone = error;
    for (const reject of this.waiting) reject(error);
    this.waiting.clear();
  }
}

export function openSftp(session: SshSession): Promise<SftpChannel> {
  return new Promise((resolve, reject) => session.client.sftp((error, sftp) => (error ? reject(error) : resolve(new SftpChannel(sftp)))));
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that ssh2 puts in `error.code`. */
export const SFTP_NO_SUCH_FILE = 2;

export function sftpStatus(error: unknown): number | null {
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : null;
}
