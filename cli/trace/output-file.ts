// A file that --trace or --joblog writes as the run goes: opened before the run starts (so a path
// that cannot be written is refused at once, with the fix), written into a 256 KiB buffer and out
// with one synchronous write when it fills, and whatever is held written out on a timer too, so
// that a master killed mid-run leaves everything up to the last fraction of a second.
//
// The writers put each op's line together here piece by piece (`ascii`, `int`, `json`) instead of
// building a string per op: the strings, their flattening and their collection were most of the
// cost of tracing (~2.5 µs per op with both files, measured; the budget is ~3 µs).
import { closeSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import { MntError } from "../../core/errors.ts";

const BUFFER_BYTES = 256 * 1024;
const FLUSH_EVERY_MS = 250;

export class OutputFile {
  private fd: number;
  private readonly buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private readonly timer: NodeJS.Timeout;

  /** Opens (creates or truncates) `file`; `flag` names the option for the error. */
  static open(file: string, flag: string): OutputFile {
    try {
      return new OutputFile(file, openSync(file, "w"));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? `the folder ${path.dirname(path.resolve(file))} does not exist` : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EISDIR" ? "it is a folder" : (error as Error).message;
      throw new MntError("usage", `--${flag} ${file}: cannot write the file (${why})`, `give --${flag} a file path in a folder you can write to`);
    }
  }

  /** A file already open (by the master, for the writer thread: threads share descriptors). */
  static fromFd(fd: number, file: string): OutputFile {
    return new OutputFile(file, fd);
  }

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    this.fd = fd;
    this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Hands the descriptor over (to the writer thread): this object no longer writes or closes it. */
  release(): number {
    const fd = this.fd;
    clearInterval(this.timer);
    this.fd = -1;
    return fd;
  }

  /** Text known to be ASCII (the JSON around the values). */
  ascii(text: string): void {
    if (this.used + text.length > BUFFER_BYTES) this.flush();
    const buffer = this.buffer;
    let at = this.used;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.used = at;
  }

  /** Bytes made once (a prefix that repeats on every line). */
  bytes(bytes: Uint8Array): void {
    if (this.used + bytes.length > BUFFER_BYTES) this.flush();
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** A number as a whole number (rounded). */
  int(value: number): void {
    if (this.used + 24 > BUFFER_BYTES) this.flush();
    let n = Math.round(value);
    if (!Number.isFinite(n)) return this.ascii("null");
    const buffer = this.buffer;
    if (n < 0) {
      buffer[this.used++] = 45; // -
      n = -n;
    }
    if (n < 10) {
      // Attempts, flags, most service times of tiny ops: one digit.
      buffer[this.used++] = 48 + n;
      return;
    }
    if (n < 0x80000000) {
      // Small enough for 32-bit integer steps (almost every value written: ids, µs under 35 min).
      let digits = 1;
      for (let rest = n; rest >= 10; rest = (rest / 10) | 0) digits++;
      let at = this.used + digits - 1;
      for (let i = 0; i < digits; i++) {
        const next = (n / 10) | 0;
        buffer[at--] = 48 + n - next * 10;
        n = next;
      }
      this.used += digits;
      return;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    let at = this.used + digits - 1;
    for (let i = 0; i < digits; i++) {
      buffer[at--] = 48 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.used += digits;
  }

  /** A string as a JSON string. */
  json(text: string): void {
    if (this.used + text.length + 2 > BUFFER_BYTES) this.flush();
    const buffer = this.buffer;
    const start = this.used;
    let at = start;
    buffer[at++] = 34; // "
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      // Anything but printable ASCII without " and \: leave it to JSON.stringify.
      if (code < 0x20 || code > 0x7e || code === 34 || code === 92) {
        this.used = start;
        return this.write(JSON.stringify(text));
      }
      buffer[at++] = code;
    }
    buffer[at++] = 34;
    this.used = at;
  }

  write(text: string): void {
    // A UTF-16 unit takes at most 3 bytes in UTF-8.
    if (this.used + text.length * 3 > BUFFER_BYTES) {
      this.flush();
      if (text.length * 3 > BUFFER_BYTES) return this.writeOut(Buffer.from(text, "utf8"));
    }
    this.used += this.buffer.write(text, this.used, "utf8");
  }

  flush(): void {
    if (this.used === 0 || this.fd < 0) return;
    this.writeOut(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private writeOut(bytes: Buffer): void {
    if (this.fd < 0) return;
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }

  close(): void {
    if (this.fd < 0) return;
    clearInterval(this.timer);
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
