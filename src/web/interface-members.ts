/**
 * Gives a class's members the property attributes WebIDL gives an interface's
 * (https://webidl.spec.whatwg.org/#es-interfaces), so that code walking an
 * object with `for…in`, or checking descriptors, sees what a browser shows.
 *
 * @module
 */

/**
 * WebIDL §3.7.6 (attributes) and §3.7.7 (operations): an interface's
 * attributes and operations are enumerable and configurable, where a class's
 * getters and methods are not enumerable. WebIDL §3.7.3: `Symbol.toStringTag`
 * is a data property, `{ writable: false, enumerable: false, configurable: true }`,
 * whose value is the interface's name.
 */
export function exposeAsInterface(interfaceClass: { prototype: object }, name: string): void {
  const prototype = interfaceClass.prototype;
  for (const key of Reflect.ownKeys(prototype)) {
    if (key === "constructor" || typeof key === "symbol") continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
    // Constants are already as WebIDL wants them: enumerable, not configurable.
    if (descriptor === undefined || !descriptor.configurable) continue;
    Object.defineProperty(prototype, key, { ...descriptor, enumerable: true });
  }
  Object.defineProperty(prototype, Symbol.toStringTag, {
    value: name,
    writable: false,
    enumerable: false,
    configurable: true,
  });
}
