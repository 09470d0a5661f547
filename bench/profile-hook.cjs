// Loaded with NODE_OPTIONS="--require …/bench/profile-hook.cjs" (NODE_OPTIONS refuses --cpu-prof, but
// every process of a run inherits it: mnt, the agent, each slave): profiles this process with the
// in-process inspector from start to exit and writes a .cpuprofile into MNT_PROFILE_DIR, the
// process's argv in the name, and beside it a .usage.json with the CPU time the kernel counted for
// the process (all its threads: the profile samples only the main thread, and by wall clock, so a
// process waiting for a core still collects samples where it waits). A process killed by a signal
// writes nothing.
"use strict";
const { Session } = require("node:inspector");
const { writeFileSync } = require("node:fs");
const path = require("node:path");
const { isMainThread } = require("node:worker_threads");

const dir = process.env.MNT_PROFILE_DIR;
if (dir && isMainThread) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: Number(process.env.MNT_PROFILE_INTERVAL_US ?? 500) });
  session.post("Profiler.start");
  process.on("exit", () => {
    // A session on this thread answers synchronously, so this runs before the process is gone.
    session.post("Profiler.stop", (error, result) => {
      if (error) return;
      const role = process.argv.slice(1).map((arg) => path.basename(arg)).join("_").replace(/[^\w.-]+/g, "_").slice(0, 60);
      const base = path.join(dir, `${role}.${process.pid}`);
      writeFileSync(`${base}.cpuprofile`, JSON.stringify(result.profile));
      const usage = process.resourceUsage();
      writeFileSync(`${base}.usage.json`, JSON.stringify({ argv: process.argv.slice(1), userMs: usage.userCPUTime / 1000, sysMs: usage.systemCPUTime / 1000, upMs: process.uptime() * 1000 }));
    });
  });
}
