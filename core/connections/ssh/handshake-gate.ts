// At most a few SSH handshakes at once to one sshd. sshd's MaxStartups (default 10:30:100) drops
// new connections at random once 10 are unauthenticated: many inventory hosts behind one jump host
// (each a connection to it), or several entries for one machine, would otherwise lose logins at
// random ("Connection lost before handshake"). Connections to different sshds are not held back.
// A slot is held from the TCP connect until the login is done or has failed (that is what counts
// as a startup for MaxStartups).

/** Below MaxStartups's default start of 10, leaving room for other clients' logins. */
export const HANDSHAKES_PER_SSHD = 8;

class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async enter(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      // The slot passes straight to the next waiter (active stays the same), else it is freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }
}

const gates = new Map<string, Gate>();

/** Waits for a handshake slot at `endpoint` (`host:port` of the sshd dialled); returns its release. */
export async function enterHandshake(endpoint: string, limit = HANDSHAKES_PER_SSHD): Promise<() => void> {
  let gate = gates.get(endpoint);
  if (!gate) gates.set(endpoint, (gate = new Gate(limit)));
  const leave = await gate.enter();
  return () => {
    leave();
    if (gate.idle && gates.get(endpoint) === gate) gates.delete(endpoint);
  };
}
