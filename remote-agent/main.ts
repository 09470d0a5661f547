// Entry of the agent bundle: one file that is both the agent and, with --slave, a slave.
import { runAgent } from "./agent.ts";
import { runSlave } from "./slave.ts";

if (process.argv.includes("--slave")) {
  runSlave().catch((error: Error) => {
    process.stderr.write(`slave: ${error.stack ?? error.message}\n`);
    process.exit(1);
  });
} else {
  runAgent(process.argv[1]!);
}
