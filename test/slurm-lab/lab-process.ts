// A test process that starts the Slurm lab, says "up", then either exits (the 'exit' hook must
// tear the lab down) or waits to be SIGKILLed (the next lab's start must sweep it up).
//   node --import tsx test/slurm-lab/lab-process.ts exit|wait
import { startSlurmLab } from "./lab.ts";

const mode = process.argv[2];
await startSlurmLab();
process.stdout.write("up\n");
if (mode === "exit") process.exit(3);
setInterval(() => {}, 60_000);
