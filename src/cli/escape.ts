/**
 * Escaping of terminal control characters, so that a message printed by the
 * interactive client shows what the server sent instead of acting on the
 * user's terminal (clearing it, moving the cursor, changing its title, …).
 *
 * @module
 */

// C0 controls except TAB (0x09) and LF (0x0a), DEL (0x7f), and C1 controls
// (0x80–0x9f). ESC (0x1b) is among them, which defuses every escape sequence:
// CSI, OSC, DCS… all start with ESC or with their C1 form (0x9b, 0x9d, 0x90).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** `\x1b` for ESC: always two hex digits, since every control is below 0x100. */
function escapeOne(character: string): string {
  return `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/**
 * Replaces terminal control characters in `text` with `\xNN` escapes:
 * `"\x1b[2J"` becomes the 7 characters `\x1b[2J`. Line feeds and tabs are kept;
 * everything else, including backslashes, is left as it is.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeOne);
}
