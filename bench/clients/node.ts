/**
 * Node's built-in `WebSocket` (undici) in the client workload. Node 20 has it
 * behind `--experimental-websocket`; the orchestrator passes the flag.
 *
 * @module
 */

import type { OnMessage } from "./job.js";

/** The WHATWG `WebSocket` members the workload uses. */
interface WhatwgWebSocket {
  binaryType: string;
  onopen: (() => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: ArrayBuffer }) => void) | null;
  send(data: Uint8Array): void;
}
type WhatwgWebSocketClass = new (url: string) => WhatwgWebSocket;

/** The global `WebSocket`, or `null` when this Node does not have it. */
export function nodeWebSocket(): WhatwgWebSocketClass | null {
  const candidate = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof candidate === "function" ? (candidate as WhatwgWebSocketClass) : null;
}

export async function runNode(
  url: string,
  payload: Uint8Array,
  inFlight: number,
  onMessage: OnMessage,
): Promise<void> {
  const WebSocketClass = nodeWebSocket();
  if (WebSocketClass === null) throw new Error("no global WebSocket in this Node");
  const ws = new WebSocketClass(url);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("WebSocket failed to open"));
  });
  ws.onerror = null;
  ws.onmessage = (event) => {
    onMessage(event.data.byteLength);
    ws.send(payload);
  };
  for (let i = 0; i < inFlight; i++) ws.send(payload);
}
