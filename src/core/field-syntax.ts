/**
 * The rules of RFC 9110 §5.5–5.6 that header fields and their values are made
 * of: tokens, the characters a field value may hold, and optional whitespace.
 *
 * @module
 */

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
//                        / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = TCHAR[c + 0x20] = 1;

function isTchar(code: number): boolean {
  return code < 0x80 && TCHAR[code] === 1;
}

/** Whether `s` is an RFC 9110 §5.6.2 `token`: one or more tchar. */
export function isToken(s: string): boolean {
  return s.length > 0 && scanToken(s, 0) === s.length;
}

/** End of the run of tchar starting at `pos`. */
export function scanToken(s: string, pos: number): number {
  while (pos < s.length && isTchar(s.charCodeAt(pos))) pos++;
  return pos;
}

/**
 * Whether `code` may appear in a field value: RFC 9110 §5.5
 * `field-vchar = VCHAR / obs-text`, plus SP and HTAB between them. Everything
 * else is a control character (CR, LF and NUL among them, "invalid and
 * dangerous" per §5.5) or cannot be written as one octet.
 */
export function isFieldValueChar(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x7f && code <= 0xff);
}

/** RFC 9110 §5.6.3: OWS = *( SP / HTAB ). */
export function skipOWS(s: string, pos: number): number {
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c !== 0x20 && c !== 0x09) break;
    pos++;
  }
  return pos;
}
