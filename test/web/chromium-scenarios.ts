/**
 * Scenario scripts for the differential test of our WHATWG `WebSocket`
 * against Chromium's: one function, {@link runScenario}, that runs a named
 * scenario with whichever `WebSocket` class it is given and records what an
 * application can observe (events, `readyState`, `bufferedAmount`,
 * exceptions). The browser runs its source text, so it references nothing
 * outside its own body: no imports, no module constants; types are erased.
 */

/** The part of the WHATWG `WebSocket` interface the scenarios use. */
export interface WebSocketLike extends EventTarget {
  readonly url: string;
  readonly readyState: number;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: unknown): void;
  close(code?: number, reason?: string): void;
}

/** The browser's `WebSocket` or ours, called as the scenarios call it. */
export type WebSocketClass = new (...args: unknown[]) => WebSocketLike;

/** The scenarios, by name. */
export const SCENARIOS = [
  "echo-text",
  "echo-arraybuffer",
  "echo-blob",
  "close-no-args",
  "close-1000-bye",
  "close-3001-x",
  "close-4999",
  "close-reason-only",
  "close-drops-later-messages",
  "server-close",
  "server-close-empty",
  "server-drop",
  "handshake-403",
  "subprotocol",
  "subprotocol-none",
  "close-while-connecting",
  "close-immediately",
  "send-while-connecting",
  "invalid-close-args",
  "invalid-constructor",
  "invalid-utf8",
  "big-message",
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Where a scenario connects; `run` names this run in URL paths, for the servers. */
export interface ScenarioInput {
  readonly scenario: ScenarioName;
  readonly run: string;
  /** `ws://127.0.0.1:port` of our `serve()` server. */
  readonly served: string;
  /** `ws://127.0.0.1:port` of the raw server that misbehaves on purpose. */
  readonly raw: string;
  /** `http://127.0.0.1:port` of the page server, which also tells when servers saw something. */
  readonly http: string;
}

/** One observation: an event, or a step of the script and what it saw. */
export type Entry = Record<string, string | number | boolean | null | number[]>;

/** What a scenario observed, in order, and whether it ran out of time. */
export interface Recording {
  readonly log: Entry[];
  readonly timedOut: boolean;
}

/**
 * Runs `input.scenario` with `WS` as the `WebSocket` class and resolves with
 * its recording. Bounded: after 15 s it closes its sockets and reports
 * `timedOut`.
 */
export async function runScenario(WS: WebSocketClass, input: ScenarioInput): Promise<Recording> {
  const log: Entry[] = [];
  const reads: Promise<unknown>[] = [];
  const sockets: WebSocketLike[] = [];
  let waiters: (() => void)[] = [];
  const notify = () => {
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  const until = async (test: () => boolean) => {
    while (!test()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const push = (entry: Entry) => {
    log.push(entry);
    notify();
  };
  const count = (label: string, event: string) =>
    log.filter((entry) => entry.ws === label && entry.event === event).length;

  // Bytes are listed for small messages; large ones get a checksum.
  const describeBytes = (buffer: ArrayBuffer, entry: Entry) => {
    const bytes = new Uint8Array(buffer);
    if (bytes.length <= 64) {
      entry.bytes = Array.from(bytes);
    } else {
      let sum = 0;
      for (const byte of bytes) sum = (sum * 31 + byte) % 1_000_003;
      entry.checksum = sum;
    }
  };

  /** Records the events of a socket, under `label`. */
  const watch = (ws: WebSocketLike, label: string) => {
    sockets.push(ws);
    ws.addEventListener("open", () => {
      push({
        ws: label,
        event: "open",
        readyState: ws.readyState,
        protocol: ws.protocol,
        extensions: ws.extensions,
        bufferedAmount: ws.bufferedAmount,
      });
    });
    ws.addEventListener("message", (event) => {
      const data: unknown = (event as MessageEvent).data;
      const entry: Entry = {
        ws: label,
        event: "message",
        readyState: ws.readyState,
        origin: (event as MessageEvent).origin,
      };
      if (typeof data === "string") {
        entry.type = "string";
        entry.text = data.length <= 256 ? data : `${data.length} UTF-16 code units`;
      } else if (data instanceof ArrayBuffer) {
        entry.type = "arraybuffer";
        entry.byteLength = data.byteLength;
        describeBytes(data, entry);
      } else if (data instanceof Blob) {
        entry.type = "blob";
        entry.size = data.size;
        entry.blobType = data.type;
        // Read after the fact; the entry keeps its place in the log.
        reads.push(data.arrayBuffer().then((buffer) => describeBytes(buffer, entry)));
        if (data.size <= 64) reads.push(data.text().then((text) => (entry.text = text)));
      } else {
        entry.type = typeof data;
      }
      push(entry);
    });
    ws.addEventListener("error", (event) => {
      push({
        ws: label,
        event: "error",
        readyState: ws.readyState,
        isEvent: event instanceof Event,
      });
    });
    ws.addEventListener("close", (event) => {
      const close = event as Event & { code: number; reason: string; wasClean: boolean };
      push({
        ws: label,
        event: "close",
        readyState: ws.readyState,
        code: close.code,
        reason: close.reason,
        wasClean: close.wasClean,
      });
    });
    return ws;
  };

  const opened = (label: string) =>
    until(() => count(label, "open") > 0 || count(label, "close") > 0);
  const closed = (label: string) => until(() => count(label, "close") > 0);
  const messages = (label: string, n: number) =>
    until(() => count(label, "message") >= n || count(label, "close") > 0);
  const state = (step: string, ws: WebSocketLike) =>
    push({ step, readyState: ws.readyState, bufferedAmount: ws.bufferedAmount });
  /** Runs `action`, recording the name of what it threw, if anything. */
  const attempt = (step: string, action: () => void) => {
    try {
      action();
      push({ step, threw: null });
    } catch (error) {
      push({
        step,
        threw: error instanceof Error || error instanceof DOMException ? error.name : String(error),
        isDOMException: error instanceof DOMException,
      });
    }
  };
  const url = (base: string, path: string) => `${base}/${path}/${input.run}`;
  /** Resolves when the servers saw `what` for this run (a long poll to the page server). */
  const serverSaw = async (what: string) => {
    const response = await fetch(`${input.http}/await/${input.run}/${what}`);
    push({ step: `server saw ${what}`, status: response.status });
  };

  /** Opens a socket to our echo server, sends messages, closes with `closeArgs`. */
  const closeScenario = async (closeArgs: unknown[]) => {
    const ws = watch(new WS(url(input.served, "echo")), "ws");
    await opened("ws");
    state("open", ws);
    attempt("close()", () => (ws.close as (...args: unknown[]) => void)(...closeArgs));
    state("after close()", ws);
    // Should close() throw, close without arguments, for the scenario to end.
    if (ws.readyState === 1) ws.close();
    attempt("send() after close()", () => ws.send("late"));
    state("after send()", ws);
    attempt("close() again", () => ws.close(3000, "again"));
    await closed("ws");
    state("closed", ws);
  };

  const scenarios: Record<string, () => Promise<void>> = {
    "echo-text": async () => {
      const ws = watch(new WS(url(input.served, "echo")), "ws");
      state("constructed", ws);
      await opened("ws");
      ws.send("Hello");
      ws.send("");
      ws.send("héllo 🙂 \u{10FFFF}");
      // A lone surrogate is sent as U+FFFD (a USVString), 3 bytes.
      ws.send("\uD800x");
      ws.send(42);
      state("after sends", ws);
      await messages("ws", 5);
      state("after echoes", ws);
      ws.close(1000, "done");
      await closed("ws");
      state("closed", ws);
    },
    "echo-arraybuffer": async () => {
      const ws = watch(new WS(url(input.served, "echo")), "ws");
      ws.binaryType = "arraybuffer";
      push({ step: "binaryType", value: ws.binaryType });
      await opened("ws");
      ws.send(new Uint8Array([0, 1, 255]));
      ws.send(new ArrayBuffer(0));
      ws.send(new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2));
      ws.send(new Blob([new Uint8Array([4, 5]), "ab"]));
      ws.send(new Uint16Array([0x0102]));
      ws.send(new Uint8Array(100_000).map((_, index) => index % 251));
      state("after sends", ws);
      await messages("ws", 6);
      state("after echoes", ws);
      ws.close(1000);
      await closed("ws");
    },
    "echo-blob": async () => {
      const ws = watch(new WS(url(input.served, "echo")), "ws");
      push({ step: "binaryType", value: ws.binaryType });
      ws.binaryType = "text";
      push({ step: "binaryType after invalid value", value: ws.binaryType });
      await opened("ws");
      ws.send(new Uint8Array([0, 1, 255]));
      ws.send(new ArrayBuffer(0));
      ws.send(new Blob(["héllo"]));
      ws.send(new Uint8Array([104, 105]));
      await messages("ws", 4);
      // binaryType counts when a message is dispatched.
      ws.binaryType = "arraybuffer";
      ws.send(new Uint8Array([7]));
      await messages("ws", 5);
      ws.binaryType = "blob";
      ws.send(new Uint8Array([8]));
      await messages("ws", 6);
      ws.close(3000, "bye");
      await closed("ws");
    },
    "close-no-args": () => closeScenario([]),
    "close-1000-bye": () => closeScenario([1000, "bye"]),
    "close-3001-x": () => closeScenario([3001, "x"]),
    "close-4999": () => closeScenario([4999]),
    "close-reason-only": () => closeScenario([undefined, "only a reason"]),
    "close-drops-later-messages": async () => {
      const ws = watch(new WS(url(input.served, "echo")), "ws");
      await opened("ws");
      // The echo arrives after close(): "if ready state is not OPEN, then return".
      ws.send("one");
      ws.close();
      await closed("ws");
    },
    "server-close": async () => {
      const ws = watch(new WS(url(input.served, "server-close")), "ws");
      await closed("ws");
      state("closed", ws);
      attempt("send() when closed", () => ws.send("late"));
      state("after send()", ws);
    },
    "server-close-empty": async () => {
      watch(new WS(url(input.served, "server-close-empty")), "ws");
      await closed("ws");
    },
    "server-drop": async () => {
      watch(new WS(url(input.raw, "drop")), "ws");
      await closed("ws");
    },
    "handshake-403": async () => {
      const ws = watch(new WS(url(input.served, "forbidden")), "ws");
      await closed("ws");
      state("closed", ws);
    },
    subprotocol: async () => {
      const ws = watch(new WS(url(input.served, "subprotocol"), ["chat.v2", "chat.v1"]), "ws");
      push({ step: "protocol before open", value: ws.protocol });
      await opened("ws");
      ws.close(1000);
      await closed("ws");
      push({ step: "protocol after close", value: ws.protocol });
    },
    "subprotocol-none": async () => {
      const ws = watch(new WS(url(input.served, "no-subprotocol"), "chat.v1"), "ws");
      await opened("ws");
      ws.close(1000);
      await closed("ws");
    },
    "close-while-connecting": async () => {
      const ws = watch(new WS(url(input.raw, "delay")), "ws");
      await serverSaw("request");
      state("connecting", ws);
      ws.close(1000, "never mind");
      state("after close()", ws);
      attempt("send() after close()", () => ws.send("late"));
      state("after send()", ws);
      await closed("ws");
      state("closed", ws);
    },
    "close-immediately": async () => {
      const ws = watch(new WS(url(input.raw, "delay")), "ws");
      ws.close();
      state("after close()", ws);
      await closed("ws");
    },
    "send-while-connecting": async () => {
      const ws = watch(new WS(url(input.served, "echo")), "ws");
      attempt("send() while connecting", () => ws.send("early"));
      state("after send()", ws);
      await opened("ws");
      ws.close(1000);
      await closed("ws");
    },
    "invalid-close-args": async () => {
      const ws = watch(new WS(url(input.served, "echo")), "ws");
      await opened("ws");
      const cases: [string, unknown[]][] = [
        ["999", [999]],
        ["1001", [1001]],
        ["1005", [1005]],
        ["1006", [1006]],
        ["2999", [2999]],
        ["5000", [5000]],
        ["0", [0]],
        ["-1 (clamped to 0)", [-1]],
        ["70000 (clamped to 65535)", [70000]],
        ["NaN (0)", [Number.NaN]],
        ["null (0)", [null]],
        ["999 with a long reason", [999, "x".repeat(200)]],
        ["1000 with 124 bytes", [1000, "x".repeat(124)]],
        ["3000 with 62 é (124 bytes)", [3000, "é".repeat(62)]],
        ["reason only, 124 bytes", [undefined, "x".repeat(124)]],
        ["4000 with 41 lone surrogates + x (124 bytes)", [4000, `${"\uD800".repeat(41)}x`]],
      ];
      for (const [step, args] of cases) {
        attempt(`close(${step})`, () => (ws.close as (...args: unknown[]) => void)(...args));
      }
      state("after invalid calls", ws);
      // [Clamp] rounds to the nearest integer, ties to even: 3000.5 is 3000.
      attempt("close(3000.5, 123 bytes)", () => ws.close(3000.5, `${"é".repeat(61)}x`));
      state("after close()", ws);
      await closed("ws");
    },
    "invalid-constructor": async () => {
      const sink = url(input.raw, "sink");
      const port = new URL(input.raw).port;
      const cases: [string, unknown[]][] = [
        ["no argument", []],
        ["relative URL", ["not a url"]],
        ["ftp scheme", ["ftp://127.0.0.1/"]],
        ["file scheme", ["file:///tmp/x"]],
        ["fragment", [`${sink}#frag`]],
        ["empty fragment", [`${sink}#`]],
        ["http scheme", [`${sink.replace("ws:", "http:")}?q=1`]],
        ["https scheme", [sink.replace("ws:", "https:")]],
        ["upper-case scheme, no path", [`WS://127.0.0.1:${port}`]],
        ["escaped path", [`ws://127.0.0.1:${port}/a b/%41?x y`]],
        ["default port", [`ws://127.0.0.1:80/${input.run}`]],
        ["port 0", [`ws://127.0.0.1:0/${input.run}`]],
        ["user without password", [`ws://user@127.0.0.1:${port}/sink/${input.run}`]],
        ["user and password", [`ws://user:pw@127.0.0.1:${port}/sink/${input.run}`]],
        ["URL object", [new URL(sink)]],
        ["protocol empty", [sink, ""]],
        ["protocol with a space", [sink, "a b"]],
        ["protocol with a comma", [sink, "a,b"]],
        ["protocol non-ASCII", [sink, "é"]],
        ["protocol twice", [sink, ["chat", "chat"]]],
        ["protocol twice, other case", [sink, ["Chat", "chat"]]],
        ["protocols empty list", [sink, []]],
        ["protocol null", [sink, null]],
        ["protocol undefined", [sink, undefined]],
        ["protocol valid", [sink, "chat"]],
      ];
      const created: string[] = [];
      for (const [step, args] of cases) {
        attempt(`new WebSocket(${step})`, () => {
          const ws = watch(new WS(...args), step);
          created.push(step);
          push({ step: `${step}: url`, value: ws.url, readyState: ws.readyState });
          ws.close();
        });
      }
      for (const label of created) await closed(label);
    },
    "invalid-utf8": async () => {
      watch(new WS(url(input.raw, "invalid-utf8")), "ws");
      await closed("ws");
    },
    "big-message": async () => {
      const ws = watch(new WS(url(input.served, "big")), "ws");
      ws.binaryType = "arraybuffer";
      await closed("ws");
    },
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    scenarios[input.scenario]!().then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), 15_000);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    for (const ws of sockets) ws.close();
  }
  await Promise.all(reads);
  return { log, timedOut };
}
