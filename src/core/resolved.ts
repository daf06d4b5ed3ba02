/**
 * {@link Resolved}: the type of options once their defaults are applied.
 *
 * @module
 */

/**
 * `T` with every property given and none `undefined`: options once their
 * defaults are applied. Not `Required<T>`: under exactOptionalPropertyTypes
 * that keeps the `| undefined` an option declares (`prop?: number | undefined`,
 * so that a caller may pass an explicit `undefined` for the default), and a
 * resolved option is never `undefined`.
 */
export type Resolved<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };
