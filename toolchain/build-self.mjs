// Builds Marionette's own runnable files: the CLI and the one-file agent (no node_modules needed).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const common = { bundle: true, platform: "node", target: "node18", sourcemap: "linked", logLevel: "warning", absWorkingDir: root };

await Promise.all([
  // The agent runs on remote hosts: it must carry everything it imports.
  build({ ...common, entryPoints: ["remote-agent/main.ts"], outfile: "dist/agent.cjs", format: "cjs" }),
  build({
    ...common,
    entryPoints: ["cli/main.ts"],
    outfile: "dist/cli.js",
    format: "esm",
    target: "node20",
    packages: "external",
  }),
]);

// rsync's remote shell during a deploy (toolchain/deploy/session-shell.ts): a plain file run by
// path, found beside the CLI bundle.
mkdirSync(path.join(root, "dist"), { recursive: true });
copyFileSync(path.join(root, "toolchain/deploy/session-shell-bridge.cjs"), path.join(root, "dist/session-shell-bridge.cjs"));
