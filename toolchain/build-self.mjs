// Builds Marionette's own runnable files: the CLI and the one-file agent (no node_modules needed).
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// Built into a folder of its own, then swapped in with two renames: chunk names carry hashes, so
// old ones do not pile up, and an mnt (a test, a benchmark) running from dist/ meanwhile never sees
// it half-written or gone.
const dist = path.join(root, "dist");
const next = `${dist}.next-${process.pid}`;
const old = `${dist}.old-${process.pid}`;
rmSync(next, { recursive: true, force: true });
const common = { bundle: true, platform: "node", target: "node18", sourcemap: "linked", logLevel: "warning", absWorkingDir: root };

await Promise.all([
  // The agent runs on remote hosts: it must carry everything it imports.
  build({ ...common, entryPoints: ["remote-agent/main.ts"], outfile: path.join(next, "agent.cjs"), format: "cjs" }),
  build({
    ...common,
    // trace-writer: the thread that writes --trace and --joblog files (cli/trace/thread-sink.ts).
    entryPoints: { cli: "cli/main.ts", "trace-writer": "cli/trace/writer-thread.ts" },
    outdir: next,
    // Each command is its own chunk, loaded when it runs.
    splitting: true,
    // Beside cli.js: code in a chunk finds files next to it (the rsync bridge) by import.meta.url.
    chunkNames: "[name]-[hash]",
    format: "esm",
    target: "node20",
    // Pure-JS dependencies are bundled (one file loads far faster than hundreds); packages with
    // native parts or a binary of their own stay external.
    external: ["esbuild", "ssh2", "msgpackr", "node-pty"],
    // Every copy of string-width (yargs, cliui, wrap-ansi, listr2's helpers) is mnt's ASCII-first
    // one, which loads the real package only for text that needs it: see cli/string-width.ts.
    alias: { "string-width": "./cli/string-width.ts" },
    // Bundled CommonJS dependencies call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __mntCreateRequire } from 'node:module'; const require = __mntCreateRequire(import.meta.url);" },
  }),
]);

// rsync's remote shell during a deploy (toolchain/deploy/session-shell.ts): a plain file run by
// path, found beside the CLI bundle.
mkdirSync(next, { recursive: true });
copyFileSync(path.join(root, "toolchain/deploy/session-shell-bridge.cjs"), path.join(next, "session-shell-bridge.cjs"));

if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
