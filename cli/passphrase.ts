// Asks for an encrypted key's passphrase on the terminal, without echo. With no terminal (CI,
// pipes) there is nobody to ask: the key is skipped and the login error says to use ssh-agent.
import { createInterface } from "node:readline";
import { Writable } from "node:stream";

export function terminalPassphrasePrompt(): ((keyFile: string) => Promise<string | null>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY || process.env.CI === "true") return undefined;
  // One question at a time, even when several hosts ask at once for the same key.
  const answers = new Map<string, Promise<string | null>>();
  let queue: Promise<unknown> = Promise.resolve();
  return (keyFile) => {
    let answer = answers.get(keyFile);
    if (!answer) {
      answer = queue.then(() => ask(`Enter passphrase for ${keyFile}: `));
      queue = answer;
      answers.set(keyFile, answer);
    }
    return answer;
  };
}

function ask(question: string): Promise<string | null> {
  return new Promise((resolve) => {
    let muted = false;
    const output = new Writable({
      write(chunk, _encoding, done) {
        if (!muted) process.stderr.write(chunk);
        done();
      },
    });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    rl.question(question, (value) => {
      rl.close();
      process.stderr.write("\n");
      resolve(value === "" ? null : value);
    });
    muted = true;
    rl.on("SIGINT", () => {
      rl.close();
      resolve(null);
    });
  });
}
