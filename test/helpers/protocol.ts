/** Builds protocols in a chosen state and the bytes their peer would send. */

import { ClientProtocol } from "../../src/core/client.js";
import { Frame } from "../../src/core/frame.js";
import { serializeFrame } from "../../src/core/frame-writer.js";
import type { Opcode } from "../../src/core/opcodes.js";
import type { Protocol, ProtocolOptions } from "../../src/core/protocol.js";
import { ServerProtocol } from "../../src/core/server.js";
import { State } from "../../src/core/state.js";
import { concat, hex } from "./bytes.js";

/** The fixed mask used by test clients, so their output can be written as hex. */
export const MASK = hex("37 fa 21 3d");

export type Role = "client" | "server";

/** A protocol of `role` already past the handshake. */
export function openProtocol(role: Role, options: ProtocolOptions = {}): Protocol {
  const merged = { state: State.OPEN, ...options };
  return role === "client"
    ? new ClientProtocol("ws://example.com/", { ...merged, maskKeyGenerator: () => MASK })
    : new ServerProtocol(merged);
}

/** The bytes of a frame as the peer of `role` sends it: masked when the peer is a client. */
export function fromPeer(
  role: Role,
  opcode: Opcode,
  data: Uint8Array | string,
  fin = true,
  rsv: [boolean, boolean, boolean] = [false, false, false],
): Uint8Array {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const frame = new Frame(opcode, bytes, fin, ...rsv);
  return concat(serializeFrame(frame, role === "server" ? MASK : null));
}

/** The bytes `role` writes for a frame: masked with {@link MASK} when `role` is a client. */
export function fromSelf(
  role: Role,
  opcode: Opcode,
  data: Uint8Array | string,
  fin = true,
): Uint8Array {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return concat(serializeFrame(new Frame(opcode, bytes, fin), role === "client" ? MASK : null));
}
