#!/usr/bin/env node
// `mnt`: runs the CLI built by `npm run build` (npm ci builds it through the prepare script).
import { existsSync } from "node:fs";
const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("mnt: dist/cli.js is missing: run `npm run build` in the Marionette checkout\n");
  process.exit(70);
}
await import(cli.href);
