/**
 * Whether Node's built-in WebSocket client can run, and with which flag:
 * global on Node 22+, behind `--experimental-websocket` on Node 20.
 *
 * @module
 */

/** The Node flags that enable the global `WebSocket`, or `null` if this Node lacks it. */
export function nodeWebSocketFlags(): string[] | null {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function") return [];
  if (process.allowedNodeEnvironmentFlags.has("--experimental-websocket")) {
    return ["--experimental-websocket"];
  }
  return null;
}
