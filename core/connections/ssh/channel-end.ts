// How an exec channel ended, said truthfully. Two things ssh2 makes easy to get wrong:
//
// - ssh2 emits a channel's `exit` while it parses the packet that carried it, and that may be the
//   very read that also confirmed the exec: then `exit` fires before whoever awaited exec() has
//   had a turn to listen, and the command looks as if it ended without an exit status. Seen with
//   20–30 lab hosts on 2 cores (issue 10): a busy master reads several packets at once; every such
//   "no exit status" had ssh2's own record of the channel say exit 0. keepExitStatus (called in the
//   exec callback, before anyone can miss it) emits a missed `exit` again just before `close`.
// - A channel with no exit status at all ended for a reason: killed by a signal (`exit` with a
//   null code and the signal's name), the connection dropped, or sshd closed it. endedWithout says
//   which, naming the host and what to do, instead of an empty message.
import type { ClientChannel } from "ssh2";
import { MntError } from "../../errors.ts";

/** Makes sure every `exit` listener sees the command's exit, however late it was added (see above). */
export function keepExitStatus(channel: ClientChannel): void {
  let missed: unknown[] | null = null;
  channel.once("exit", (...args: unknown[]) => {
    // `once` removed this listener before calling it: any other listener has had the event.
    if (channel.listenerCount("exit") === 0) missed = args;
  });
  channel.prependOnceListener("close", () => {
    if (missed) channel.emit("exit", ...missed);
  });
}

/** What the connection looked like when a channel closed without an exit code. */
export interface EndWithoutStatus {
  label: string;
  /** From the `exit` event: the signal that killed the command (`SIGKILL`), when one did. */
  signal: string | null;
  /** The connection is gone, and the error it went with (keepalive timeout, reset), if any. */
  connectionLost: boolean;
  connectionError?: Error;
}

/** The one-line error for a command that ended without an exit code. */
export function endedWithout(end: EndWithoutStatus): MntError {
  if (end.signal) {
    return new MntError("infrastructure", `${end.label}: a command mnt ran there was killed by ${end.signal}`, "look on the host for what kills processes (out of memory, a process limit, an admin)");
  }
  if (end.connectionLost) {
    const why = end.connectionError ? `: ${end.connectionError.message}` : "";
    return new MntError("infrastructure", `${end.label}: the SSH connection was lost while a command ran there${why}`, "check the network to the host and that it is up; mnt reconnects when it answers");
  }
  return new MntError(
    "infrastructure",
    `${end.label}: sshd closed a command's channel without an exit status (the connection stayed up)`,
    "look in the host's sshd log for the reason (a ForceCommand, a session limit, a killed session process)",
  );
}

/** ssh2's message when sshd refuses a new channel (`open failed`, `administratively prohibited`). */
export function channelOpenRefused(label: string, error: Error): MntError {
  const reason = error.message.replace(/^\(SSH\) /, "");
  if (!/Channel open failure/i.test(reason)) return new MntError("infrastructure", `${label}: cannot start a command there: ${reason}`, undefined, { cause: error });
  return new MntError(
    "infrastructure",
    `${label}: sshd refused to open another channel on mnt's connection (${reason})`,
    "sshd allows MaxSessions channels per connection (10 by default) and mnt keeps a few open per host: raise MaxSessions in the host's sshd_config, or look in its sshd log",
    { cause: error },
  );
}
