/**
 * examples/README.md lists every example with a command that runs it: each
 * program under examples/ has a row, and each command names a program or an
 * npm script that exists. (The programs themselves are run by the other
 * tests of this directory; examples/README.md's links by test/docs/links.)
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const readme = readFileSync(join(root, "examples/README.md"), "utf8");
const rows = readme.split("\n").filter((line) => line.startsWith("| [`"));

describe("examples/README.md", () => {
  it("has a row for every example, with a command", () => {
    const examples = readdirSync(join(root, "examples"), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
      .map((file) => file.split("\\").join("/"))
      .sort();
    assert.ok(examples.length > 0);
    const listed = rows.map((row) => /^\| \[`([^`]+)`\]/.exec(row)![1]!).sort();
    assert.deepEqual(listed, examples);
    for (const row of rows) {
      const command = row.split(" | ").at(-1)!;
      assert.match(command, /`(node \.build\/examples\/|npm (start|run ))/, row);
    }
  });

  it("names programs and npm scripts that exist", () => {
    const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    const missing: string[] = [];
    for (const [, program] of readme.matchAll(/node \.build\/(examples\/[\w/-]+)\.js/g)) {
      if (!existsSync(join(root, `${program}.ts`))) missing.push(`${program}.ts`);
    }
    for (const [, script] of readme.matchAll(/npm run ([\w:-]+)/g)) {
      if (!(script! in scripts)) missing.push(`npm script ${script}`);
    }
    assert.deepEqual(missing, []);
  });
});
