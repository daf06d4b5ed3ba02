/**
 * Escaping of control characters in text that came from the network and ends
 * up in logs, traces and error messages: a close reason or a header value
 * holding a line feed would forge a log line, one holding ESC or a C1 control
 * would drive the terminal that shows it.
 *
 * @module
 */

// C0 controls (TAB and LF included), DEL (0x7f) and C1 controls (0x80–0x9f):
// ESC (0x1b) and the C1 forms of CSI, OSC and DCS (0x9b, 0x9d, 0x90) start
// every terminal escape sequence.
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/** `\x0a` for LF: always two hex digits, since every control is below 0x100. */
function escapeOne(character: string): string {
  return `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/**
 * Replaces control characters in `text` with `\xNN` escapes: `"bye\n"`
 * becomes the 7 characters `bye\x0a`. Everything else is left as it is.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/**
 * `text` in double quotes for an error message, as `JSON.stringify()` quotes
 * it, with DEL and the C1 controls escaped too, which JSON leaves as they are.
 */
export function quoteText(text: string): string {
  return escapeControlCharacters(JSON.stringify(text));
}
