// The writer thread of --trace and --joblog: formats and writes what the master's thread recorded
// (record-batch.ts), so that the master, which every op passes through, only copies numbers.
// Started by thread-sink.ts with the files' descriptors (opened, and so checked, by the master).
// After each batch it counts one in `progress[0]`; when told to end, it ends both files and sets
// `progress[1]`, which the master waits for.
import { parentPort, workerData } from "node:worker_threads";
import type { TimelineSink } from "../../core/trace/timeline-sink.ts";
import { ChromeTraceWriter } from "./chrome-trace-writer.ts";
import { JoblogWriter } from "./joblog-writer.ts";
import { OutputFile } from "./output-file.ts";
import { BatchDecoder, type Batch } from "./record-batch.ts";

export interface WriterThreadData {
  trace: { fd: number; file: string } | null;
  joblog: { fd: number; file: string } | null;
  progress: SharedArrayBuffer;
}

export type WriterMessage = { batch: Batch } | { end: true };

const data = workerData as WriterThreadData;
const progress = new Int32Array(data.progress);
const sinks: TimelineSink[] = [];
if (data.trace) sinks.push(new ChromeTraceWriter(OutputFile.fromFd(data.trace.fd, data.trace.file)));
if (data.joblog) sinks.push(new JoblogWriter(OutputFile.fromFd(data.joblog.fd, data.joblog.file)));
const decoder = new BatchDecoder(sinks);

parentPort!.on("message", (message: WriterMessage) => {
  if ("batch" in message) {
    const { records, inputs } = message.batch;
    decoder.replay(message.batch);
    // The arrays go back to the master for its next batches.
    parentPort!.postMessage({ records, inputs }, [records.buffer as ArrayBuffer, inputs.buffer as ArrayBuffer]);
    Atomics.add(progress, 0, 1);
    Atomics.notify(progress, 0);
    return;
  }
  decoder.end();
  Atomics.store(progress, 1, 1);
  Atomics.notify(progress, 1);
});
