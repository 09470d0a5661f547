// A file that --trace or --joblog writes as the run goes: opened before the run starts (so a path
// that cannot be written is refused at once, with the fix), text gathered in memory and written
// in batches of ~64 KiB with one synchronous write each, and whatever is held written out on a
// timer too, so that a master killed mid-run leaves everything up to the last fraction of a second.
import { closeSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";

const BATCH_CHARS = 64 * 1024;
const FLUSH_EVERY_MS = 250;

export class OutputFile {
  private fd: number;
  private held: string[] = [];
  private heldChars = 0;
  private readonly timer: NodeJS.Timeout;

  /** Opens (creates or truncates) `file`; `flag` names the option for the error. */
  constructor(
    readonly file: string,
    flag: string,
  ) {
    try {
      this.fd = openSync(file, "w");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? `the folder ${path.dirname(path.resolve(file))} does not exist` : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "it is a folder" : (error as Error).message;
      throw new MntError("usage", `--${flag} ${file}: cannot write the file (${why})`, `give --${flag} a file path in a folder you can write to`);
    }
    this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  write(text: string): void {
    this.held.push(text);
    this.heldChars += text.length;
    if (this.heldChars >= BATCH_CHARS) this.flush();
  }

  flush(): void {
    if (this.heldChars === 0 || this.fd < 0) return;
    const text = this.held.join("");
    this.held = [];
    this.heldChars = 0;
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.fd < 0) return;
    clearInterval(this.timer);
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
