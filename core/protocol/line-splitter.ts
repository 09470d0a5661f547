// Splits a byte stream into text lines; a partial last line waits for the rest (or for end()).
// UTF-8 is decoded across chunks (StringDecoder): a character cut between two reads arrives whole.
import { StringDecoder } from "node:string_decoder";

export class LineSplitter {
  private partial = "";
  private readonly decoder = new StringDecoder("utf8");

  constructor(private readonly onLines: (lines: string[]) => void) {}

  push(chunk: Buffer): void {
    const text = this.partial + this.decoder.write(chunk);
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    if (lines.length > 0) this.onLines(lines);
  }

  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = "";
    if (rest) this.onLines([rest]);
  }
}
