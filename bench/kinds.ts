/**
 * The servers and clients the suite compares, and how each one is started.
 *
 * @module
 */

/** The servers, each run in its own process by `server.ts`. */
export const ServerKind = {
  /** Node `net` echo without framing: the practical ceiling. */
  RAW: "raw",
  /** uWebSockets.js (C++), when its prebuilt binary loads. */
  UWS: "uws",
  /** `ws` without its optional native addons. */
  WS: "ws",
  /** `ws` with `bufferutil` (and `utf-8-validate`, when it would use it). */
  WS_NATIVE: "ws-native",
  /** This library's `serve()`. */
  OURS: "ours",
  /** `ws` with permessage-deflate. */
  WS_DEFLATE: "ws-deflate",
  /** This library's `serve()` with `compression: "deflate"`. */
  OURS_DEFLATE: "ours-deflate",
} as const;
export type ServerKind = (typeof ServerKind)[keyof typeof ServerKind];

/** Column headings in the tables. */
export const SERVER_LABELS: Record<ServerKind, string> = {
  raw: "raw TCP",
  uws: "uWS.js",
  ws: "ws",
  "ws-native": "ws+native",
  ours: "ours",
  "ws-deflate": "ws deflate",
  "ours-deflate": "ours deflate",
};

/**
 * Environment for each server: `ws` loads `bufferutil` and `utf-8-validate`
 * only when these variables are unset, so the plain `ws` server sets them.
 */
export const SERVER_ENV: Record<ServerKind, Record<string, string>> = {
  raw: {},
  uws: {},
  ws: { WS_NO_BUFFER_UTIL: "1", WS_NO_UTF_8_VALIDATE: "1" },
  "ws-native": {},
  ours: {},
  "ws-deflate": {},
  "ours-deflate": {},
};

/** Whether a server speaks WebSocket (all but the raw echo). */
export function speaksWebSocket(kind: ServerKind): boolean {
  return kind !== ServerKind.RAW;
}

/** The clients compared against one fast server. */
export const ClientKind = {
  OURS: "ours",
  WS: "ws",
  /** Node's built-in `WebSocket` (undici); behind `--experimental-websocket` on Node 20. */
  NODE: "node",
} as const;
export type ClientKind = (typeof ClientKind)[keyof typeof ClientKind];

export const CLIENT_LABELS: Record<ClientKind, string> = {
  ours: "ours",
  ws: "ws",
  node: "Node WebSocket",
};

/** Largest message every server accepts: above the 16 MiB workload. */
export const MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
