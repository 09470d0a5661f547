// What every way of reaching an agent (a local child, an SSH exec channel) gives the runtime.
import type { Transport } from "../protocol/channel.ts";

/** A live connection to an agent: its frames, and how to end it for good. */
export interface AgentConnection {
  transport: Transport;
  /** Ends the connection and makes sure the agent process is gone (bounded wait). */
  close(): Promise<void>;
}
