// The master's end of one agent: checks the hello, sends the config, watches heartbeats.
import { decode, encode } from "../protocol/codec.ts";
import { FrameChannel, type IncomingFrame } from "../protocol/channel.ts";
import { FrameType } from "../protocol/frame.ts";
import { PROTOCOL_VERSION, type Config, type Hello } from "../protocol/messages.ts";
import { MntError } from "../errors.ts";

export interface AgentLinkOptions {
  /** Host name used in messages and log tags. */
  host: string;
  /** The agent build the master ships (sha256 prefix); null accepts any. */
  expectedBuild: string | null;
  config: Config;
  /** No frame for this long means the agent is lost. */
  heartbeatTimeoutMs: number;
  /** Longest wait for the hello (the agent's start-up)... */
  helloTimeoutMs: number;
  /** ...and the next step the error names when it passes. */
  helloTimeoutHint?: string;
}

export class AgentLink {
  hello: Hello | null = null;
  private lostListener: (error: Error) => void = () => {};
  private frameListener: (frame: IncomingFrame) => void = () => {};
  private watchdog: NodeJS.Timeout | null = null;
  private lost = false;
  readonly ready: Promise<Hello>;

  constructor(
    readonly channel: FrameChannel,
    readonly options: AgentLinkOptions,
  ) {
    this.ready = new Promise<Hello>((resolve, reject) => {
      const helloTimer = setTimeout(
        () => this.fail(new MntError("infrastructure", `${options.host}: the agent sent no hello within ${options.helloTimeoutMs} ms`, options.helloTimeoutHint ?? "check that `node` runs on that host")),
        options.helloTimeoutMs,
      );
      helloTimer.unref();
      this.lostListener = (error) => {
        clearTimeout(helloTimer);
        reject(error);
      };
      channel.onFrame((frame) => {
        if (frame.type !== FrameType.Hello) {
          return this.fail(new MntError("protocol", `${options.host}: the agent's first frame was not a hello`));
        }
        clearTimeout(helloTimer);
        let hello: Hello;
        try {
          hello = decodeHello(frame.payload, options.host);
          checkHello(hello, options);
        } catch (error) {
          return this.fail(error as Error);
        }
        this.hello = hello;
        channel.onFrame((f) => this.frameListener(f));
        channel.send(FrameType.Config, 0, 0, encode(options.config));
        this.startWatchdog();
        resolve(hello);
      });
    });
    this.ready.catch(() => {});
    channel.onClose((error) => this.fail(error ?? new MntError("infrastructure", `${options.host}: the agent's connection closed`)));
  }

  onFrame(listener: (frame: IncomingFrame) => void): void {
    this.frameListener = listener;
  }

  /** Called once, when the agent is lost for any reason (closed, corrupt frames, silent). */
  onLost(listener: (error: Error) => void): void {
    const before = this.lostListener;
    this.lostListener = (error) => {
      before(error);
      listener(error);
    };
  }

  get isLost(): boolean {
    return this.lost;
  }

  fail(error: Error): void {
    if (this.lost) return;
    this.lost = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.channel.fail(error);
    this.lostListener(error);
  }

  close(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.lost = true;
    this.channel.close();
  }

  private startWatchdog(): void {
    const { heartbeatTimeoutMs, config, host } = this.options;
    let lastTick = Date.now();
    this.watchdog = setInterval(() => {
      this.channel.send(FrameType.Heartbeat, 0, 0);
      const now = Date.now();
      // After this process was busy or frozen (a long synchronous main), the agent's frames wait
      // unread in the pipe: judge only once they have had a turn to arrive.
      const masterWasBusy = now - lastTick > heartbeatTimeoutMs / 2;
      lastTick = now;
      if (masterWasBusy) return;
      const silent = now - this.channel.lastReceived;
      if (silent > heartbeatTimeoutMs) {
        this.fail(new MntError("infrastructure", `${host}: no heartbeat from the agent for ${silent} ms`));
      }
    }, config.heartbeatMs);
    this.watchdog.unref();
  }
}

/** Decodes a hello, refusing one that is not the object a Marionette agent sends. */
function decodeHello(payload: Buffer, host: string): Hello {
  let value: unknown;
  try {
    value = decode(payload);
  } catch (error) {
    throw new MntError("protocol", `${host}: the agent's hello does not decode: ${(error as Error).message}`, "is that a Marionette agent?");
  }
  const hello = value as Partial<Hello> | null;
  if (typeof hello !== "object" || hello === null || typeof hello.protocol !== "number" || typeof hello.build !== "string" || typeof hello.node !== "string" || typeof hello.cores !== "number") {
    throw new MntError("protocol", `${host}: the agent's hello lacks protocol, build, node or cores`, "is that a Marionette agent?");
  }
  return hello as Hello;
}

function checkHello(hello: Hello, options: AgentLinkOptions): void {
  if (hello.protocol !== PROTOCOL_VERSION) {
    throw new MntError("protocol", `${options.host}: the agent speaks protocol ${hello.protocol}, this master speaks ${PROTOCOL_VERSION}`, "deploy the agent built with this mnt");
  }
  if (options.expectedBuild && hello.build !== options.expectedBuild) {
    throw new MntError("protocol", `${options.host}: the agent is build ${hello.build}, this master ships ${options.expectedBuild}`, "redeploy the agent");
  }
  const major = Number(hello.node.split(".")[0]);
  if (!(major >= 18)) {
    throw new MntError("infrastructure", `${options.host}: Node.js ${hello.node} is too old`, "install Node.js 18 or newer there");
  }
}
