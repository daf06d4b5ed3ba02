/**
 * Which header fields hold credentials, so that what shows headers (traces,
 * error messages) can leave their values out.
 *
 * @module
 */

/**
 * Header fields whose values are credentials. Beyond HTTP's own, the names
 * applications give their keys and tokens (`X-Api-Key`, `X-Auth-Token`,
 * `X-Session-Id`, `X-Jwt`, `X-Bearer`, …), recognized by a part of the name;
 * `Sec-WebSocket-Key` is a nonce, shown (it checks the `Sec-WebSocket-Accept`
 * in the same trace).
 */
const CREDENTIAL_FIELDS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);
const CREDENTIAL_NAME_PART =
  /token|secret|passw|session|signature|credential|api-?key|auth|jwt|bearer|-key$/;

/** Whether the value of the field `name` is a credential: traces and error messages leave it out. */
export function isCredentialField(name: string): boolean {
  const lower = name.toLowerCase();
  if (CREDENTIAL_FIELDS.has(lower)) return true;
  // Challenges name a scheme and realm, not a secret.
  if (lower === "www-authenticate" || lower === "proxy-authenticate") return false;
  return lower !== "sec-websocket-key" && CREDENTIAL_NAME_PART.test(lower);
}
