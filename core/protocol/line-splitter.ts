// Splits a byte stream into text lines; a partial last line waits for the rest (or for end()).
export class LineSplitter {
  private partial = "";

  constructor(private readonly onLines: (lines: string[]) => void) {}

  push(chunk: Buffer): void {
    const text = this.partial + chunk.toString("utf8");
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    if (lines.length > 0) this.onLines(lines);
  }

  end(): void {
    if (this.partial) this.onLines([this.partial]);
    this.partial = "";
  }
}
