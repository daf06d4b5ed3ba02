/** WebIDL's property attributes for an interface's members (WebIDL §3.7). */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exposeAsInterface } from "../../src/web/interface-members.js";

class Sample {
  #value = 1;
  get value(): number {
    return this.#value;
  }
  set value(value: number) {
    this.#value = value;
  }
  get readOnly(): string {
    return "read-only";
  }
  method(): number {
    return this.#value * 2;
  }
}
Object.defineProperty(Sample.prototype, "CONSTANT", {
  value: 7,
  enumerable: true,
  writable: false,
  configurable: false,
});
exposeAsInterface(Sample, "Sample");

describe("exposeAsInterface()", () => {
  it("makes attributes and operations enumerable and keeps them configurable", () => {
    const descriptors = Object.getOwnPropertyDescriptors(Sample.prototype);
    for (const name of ["value", "readOnly", "method"]) {
      assert.equal(descriptors[name]?.enumerable, true, name);
      assert.equal(descriptors[name]?.configurable, true, name);
    }
    assert.equal(typeof descriptors.value?.set, "function");
    assert.equal(descriptors.readOnly?.set, undefined);
    assert.equal(descriptors.method?.writable, true);
  });

  it("leaves the constructor hidden and constants as they were", () => {
    const descriptors = Object.getOwnPropertyDescriptors(Sample.prototype);
    assert.equal(
      Object.getOwnPropertyDescriptor(Sample.prototype, "constructor")?.enumerable,
      false,
    );
    assert.deepEqual(descriptors.CONSTANT, {
      value: 7,
      enumerable: true,
      writable: false,
      configurable: false,
    });
  });

  it("lists the members in for…in, in declaration order, and they still work", () => {
    const sample = new Sample();
    const names: string[] = [];
    for (const name in sample) names.push(name);
    assert.deepEqual(names, ["value", "readOnly", "method", "CONSTANT"]);
    sample.value = 5;
    assert.equal(sample.method(), 10);
  });

  it("names the interface in Symbol.toStringTag, a read-only data property", () => {
    assert.deepEqual(Object.getOwnPropertyDescriptor(Sample.prototype, Symbol.toStringTag), {
      value: "Sample",
      writable: false,
      enumerable: false,
      configurable: true,
    });
    assert.equal(Object.prototype.toString.call(new Sample()), "[object Sample]");
  });
});
