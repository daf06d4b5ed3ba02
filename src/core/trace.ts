/**
 * One-line descriptions of what a connection sends and receives, for
 * {@link Protocol.trace}: handshake messages, frames and ends of stream,
 * as a person debugging a connection reads them.
 *
 * @module
 */

import { Close } from "./close.js";
import { escapeControlCharacters } from "./control-characters.js";
import { isCredentialField } from "./credential-fields.js";
import type { Frame } from "./frame.js";
import type { Headers } from "./headers.js";
import { Opcode } from "./opcodes.js";

/** Payload bytes previewed in a description: enough to recognize a message. */
const PREVIEW_BYTES = 48;

/**
 * A URI reference with what it may hold of credentials redacted: the user
 * info of an absolute URI (RFC 9112 §3.2.2's absolute-form, a redirect's
 * `Location`) and the values of its query's parameters, where tokens often
 * travel; the names stay, and a parameter without `=`, which may be a token
 * itself, is redacted whole.
 */
export function redactTarget(target: string): string {
  // Up to the last "@" before the path, as URL parsers read the user info.
  let redacted = target.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1[redacted]@");
  const query = redacted.indexOf("?");
  if (query !== -1) {
    const parameters = redacted
      .slice(query + 1)
      .split("&")
      .map((parameter) => {
        if (parameter === "") return parameter;
        const equals = parameter.indexOf("=");
        return equals === -1 ? "[redacted]" : `${parameter.slice(0, equals)}=[redacted]`;
      });
    redacted = `${redacted.slice(0, query)}?${parameters.join("&")}`;
  }
  return redacted;
}

/** A request line with its target redacted (see {@link redactTarget}); status lines pass unchanged. */
function redactStartLine(startLine: string): string {
  const parts = startLine.split(" ");
  if (parts.length !== 3 || startLine.startsWith("HTTP/")) return startLine;
  return `${parts[0]} ${redactTarget(parts[1]!)} ${parts[2]}`;
}

// ignoreBOM: a payload that starts with U+FEFF is previewed with it, as sent.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

const NAMES: Record<number, string> = {
  [Opcode.CONT]: "CONT",
  [Opcode.TEXT]: "TEXT",
  [Opcode.BINARY]: "BINARY",
  [Opcode.CLOSE]: "CLOSE",
  [Opcode.PING]: "PING",
  [Opcode.PONG]: "PONG",
};

/**
 * Describes a frame as the application sent or received it (before an
 * extension encodes it, after one decoded it): its opcode, a preview of its
 * payload, text quoted and bytes in hexadecimal, and its length, e.g.
 * `TEXT "hello" [5 bytes]`, `BINARY 00 ff [2 bytes, continued]`,
 * `CLOSE 1000 (OK) bye [5 bytes]`.
 */
export function describeFrame(frame: Frame): string {
  const data = frame.data;
  let preview: string;
  if (frame.opcode === Opcode.CLOSE) {
    try {
      preview = String(Close.parse(data));
    } catch {
      preview = hexPreview(data);
    }
  } else if (frame.opcode === Opcode.TEXT) {
    // A fragment may end inside a character: show what decodes.
    preview = quote(lossyUtf8.decode(data.subarray(0, PREVIEW_BYTES)), data.length > PREVIEW_BYTES);
  } else if (frame.opcode === Opcode.BINARY) {
    preview = hexPreview(data);
  } else {
    // Continuations and control frames carry either: text when it decodes.
    preview = textPreview(data) ?? hexPreview(data);
  }
  const size = `${data.length} byte${data.length === 1 ? "" : "s"}`;
  const name = NAMES[frame.opcode] ?? `OPCODE ${frame.opcode}`;
  return `${name} ${preview} [${frame.fin ? size : `${size}, continued`}]`;
}

/**
 * The lines of an HTTP head (request or status line, then each field) for a
 * trace, with credentials replaced by `[redacted]`: the values of credential
 * fields (`Authorization`, `Cookie`, `X-Api-Key`, …), and the user info and
 * query values of a request target or a `Location`. Traces end up in logs
 * and bug reports.
 */
export function describeHead(startLine: string, headers: Headers): string[] {
  const lines = [escapeControlCharacters(redactStartLine(startLine))];
  for (const [name, value] of headers) {
    let shown = value;
    if (isCredentialField(name)) shown = "[redacted]";
    else if (name.toLowerCase() === "location") shown = redactTarget(value);
    // A field value may hold obs-text, C1 controls among it (RFC 9110 §5.5).
    lines.push(`${name}: ${escapeControlCharacters(shown)}`);
  }
  return lines;
}

function textPreview(data: Uint8Array): string | null {
  const head = data.subarray(0, PREVIEW_BYTES);
  try {
    return quote(strictUtf8.decode(head), data.length > PREVIEW_BYTES);
  } catch {
    // Not text, or cut inside a character: the caller shows bytes.
    return null;
  }
}

/**
 * JSON-style quotes and escapes, and `\xNN` for DEL and the C1 controls,
 * which JSON leaves as they are: control characters can't reach a terminal.
 */
function quote(text: string, truncated: boolean): string {
  return `${escapeControlCharacters(JSON.stringify(text))}${truncated ? "…" : ""}`;
}

function hexPreview(data: Uint8Array): string {
  if (data.length === 0) return "(empty)";
  const shown = Array.from(data.subarray(0, PREVIEW_BYTES / 2), (byte) =>
    byte.toString(16).padStart(2, "0"),
  );
  return `${shown.join(" ")}${data.length > PREVIEW_BYTES / 2 ? " …" : ""}`;
}
