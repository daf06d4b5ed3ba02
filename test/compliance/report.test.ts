/** The conformance page keeps its hand-written part when it is regenerated. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HANDWRITTEN_MARKER, withHandwritten } from "../../compliance/report.js";

describe("withHandwritten()", () => {
  const generated = "# Conformance\n\nResults.\n";

  it("appends the marker and what follows it in the current page", () => {
    const existing = `# Conformance\n\nOld results.\n\n${HANDWRITTEN_MARKER}\n\n## Interoperability\n\nA matrix.\n`;
    assert.equal(
      withHandwritten(generated, existing),
      `# Conformance\n\nResults.\n\n${HANDWRITTEN_MARKER}\n\n## Interoperability\n\nA matrix.\n`,
    );
  });

  it("gives the generated page alone when there is no page or no hand-written part", () => {
    assert.equal(withHandwritten(generated, null), generated);
    assert.equal(withHandwritten(generated, "# Conformance\n\nOld results.\n"), generated);
  });
});
