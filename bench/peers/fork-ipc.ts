// Peer: a pool of child_process.fork children answering {id, x} with {id, result} over Node's IPC
// channel (JSON serialisation, the default), dispatched round-robin, promises keyed by id.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { measure, type Method, type PeerResult } from "../stats.ts";
import { exitError, stopChild, track } from "./children.ts";

export interface ForkIpcPeerOptions {
  children?: number;
  method?: Partial<Method>;
}

interface Reply {
  id: number;
  result: unknown;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const CHILD = fileURLToPath(new URL("./fork-ipc-child.mjs", import.meta.url));

export async function runForkIpcPeer(options: ForkIpcPeerOptions = {}): Promise<PeerResult> {
  const count = options.children ?? 2;
  const pending = new Map<number, Pending>();
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < count; i += 1) children.push(startChild(pending));
    await Promise.all(children.map((child) => new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    })));
    let nextId = 0;
    let turn = 0;
    const call = (): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const child = children[turn]!;
        turn = (turn + 1) % children.length;
        pending.set(id, { resolve, reject });
        child.send({ id, x: 0 });
      });
    return await measure({ name: `fork IPC (${count} children)`, call, method: options.method });
  } finally {
    await Promise.all(children.map((child) => stopChild(child, () => child.disconnect())));
  }
}

function startChild(pending: Map<number, Pending>): ChildProcess {
  // execArgv: [] so the child doesn't inherit --import=tsx; it is plain JavaScript.
  const child = track(fork(CHILD, [], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  child.on("message", (message: Reply) => {
    const entry = pending.get(message.id);
    if (!entry) return;
    pending.delete(message.id);
    entry.resolve(message.result);
  });
  // Every pending call dies with its channel (calls to the other child too: the run is over).
  const failAll = (error: Error): void => {
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
  };
  child.on("error", failAll);
  child.once("exit", (code, signal) => failAll(exitError("fork IPC child", code, signal)));
  return child;
}
