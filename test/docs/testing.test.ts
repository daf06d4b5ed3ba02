/**
 * docs/howto/testing.md's test files, run as a user would: each written to a
 * scratch project of their own and run with `node --test`, where every test
 * of the file must pass.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runNode } from "../helpers/child.js";
import { codeBlocks, readMarkdown } from "./markdown.js";
import { root } from "./programs.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/howto/testing.md";
const blocks = codeBlocks(readMarkdown(root, PAGE));

/** The page's ```ts block that starts with the comment `// <name>.test.ts`. */
function testFile(name: string): string {
  const found = blocks.find(
    (block) => block.lang === "ts" && block.code.startsWith(`// ${name}.test.ts\n`),
  );
  assert.ok(found !== undefined, `${PAGE} has a test file ${name}.test.ts`);
  return found.code;
}

/** The names given to `test()` in `code`. */
function testNames(code: string): string[] {
  return [...code.matchAll(/^test\("([^"]+)"/gm)].map((match) => match[1]!);
}

describe(PAGE, () => {
  for (const [name, count] of [
    ["shout", 2],
    ["prices", 1],
  ] as const) {
    it(`${name}.test.ts passes under node --test`, async () => {
      using project = scratchProject();
      const code = testFile(name);
      const names = testNames(code);
      assert.equal(names.length, count, `${name}.test.ts has ${count} tests`);
      project.writeProgram(`${name}.test`, code);
      const run = await runNode(["--test", "--test-reporter=tap", `${name}.test.js`], {
        cwd: project.dir,
        // Set when this file runs under `node --test`: the child would report to it, not to stdout.
        env: { NODE_TEST_CONTEXT: undefined },
      });
      assert.equal(run.code, 0, `node --test failed:\n${run.stdout}\n${run.stderr}`);
      const lines = run.stdout.split("\n");
      for (const test of names) {
        const passed = lines.some((line) => /^ok \d+ - /.test(line) && line.endsWith(` - ${test}`));
        assert.ok(passed, `${test}: no "ok" line in\n${run.stdout}`);
      }
      assert.match(run.stdout, new RegExp(`^# pass ${count}$`, "m"));
      assert.match(run.stdout, /^# fail 0$/m);
    });
  }
});
