// raw-pipe-bytes peer: writes "ready\n", counts and discards stdin, and on its end writes the byte
// count as a decimal line and exits.
let bytes = 0;
process.stdin.on("data", (chunk) => {
  bytes += chunk.length;
});
process.stdin.on("end", () => {
  process.stdout.write(`${bytes}\n`, () => process.exit(0));
});
process.stdout.on("error", () => process.exit(0));
process.stdout.write("ready\n");
