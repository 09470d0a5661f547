// raw-pipe-echo peer: reads frames (u32 LE length + MessagePack [id, x]) from stdin, decodes each,
// and answers [id, x] the same way, all replies to one chunk of input in one stdout write.
// Exits when stdin ends (the parent closed it or died).
import { Packr } from "msgpackr";

const packr = new Packr({ useRecords: false });
let rest = null;

process.stdin.on("data", (chunk) => {
  const input = rest === null ? chunk : Buffer.concat([rest, chunk]);
  const replies = [];
  let bytes = 0;
  let offset = 0;
  while (input.length - offset >= 4) {
    const length = input.readUInt32LE(offset);
    if (input.length - offset - 4 < length) break;
    const [id, x] = packr.unpack(input.subarray(offset + 4, offset + 4 + length));
    const reply = packr.pack([id, x]);
    replies.push(reply);
    bytes += 4 + reply.length;
    offset += 4 + length;
  }
  rest = offset < input.length ? input.subarray(offset) : null;
  if (replies.length === 0) return;
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const reply of replies) {
    out.writeUInt32LE(reply.length, at);
    out.set(reply, at + 4);
    at += 4 + reply.length;
  }
  process.stdout.write(out);
});
process.stdin.on("end", () => process.exit(0));
process.stdout.on("error", () => process.exit(0));
