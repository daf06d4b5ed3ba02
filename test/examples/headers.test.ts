/**
 * The comment at the top of each program under examples/ says how to run it
 * from a fresh clone, as examples/README.md does: the programs import
 * `websockets-ts`, which resolves to `dist/`, so a `node .build/examples/…`
 * command works only once both `npm run build` (dist/) and
 * `npm run build:test` (.build/) have run. (The programs themselves are run by
 * the other tests of this directory.)
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
};

const examples = readdirSync(join(root, "examples"), { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".ts"))
  .map((file) => `examples/${file.split("\\").join("/")}`)
  .sort();

/** The leading `//` comment of a program, without the slashes. */
function header(file: string): string {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const end = lines.findIndex((line) => !line.startsWith("//"));
  return lines
    .slice(0, end)
    .map((line) => line.replace(/^\/\/ ?/, ""))
    .join("\n");
}

/**
 * The commands in `text`, in order: a build of `dist/` or `.build/`, an npm
 * script, or a program run with node. `npm run build` is told apart from
 * `npm run build:test` by what follows it.
 */
const COMMAND =
  /npm run build(?![\w:-])|npm run build:test|npm start|npm run ([\w:-]+)|node (\.build\/[\w/.-]+\.js)/g;

interface Run {
  /** Programs run (`.build/…` paths), by the header or by the npm scripts it names. */
  readonly programs: string[];
  /** What went wrong: a program run before it was built, a script or a program that doesn't exist. */
  readonly problems: string[];
}

/**
 * Follows the commands of `text` as a shell would from a fresh clone (after
 * `npm ci`), into the npm scripts they name, noting which builds have run
 * when each program starts.
 */
function follow(text: string, run: Run, built = { dist: false, build: false }): Run {
  for (const match of text.matchAll(COMMAND)) {
    const [command, script, program] = match;
    if (command === "npm run build") built.dist = true;
    else if (command === "npm run build:test") built.build = true;
    else if (program !== undefined) {
      run.programs.push(program);
      const source = program.replace(/^\.build\//, "").replace(/\.js$/, ".ts");
      if (!existsSync(join(root, source))) run.problems.push(`${program}: no ${source}`);
      if (!built.dist) run.problems.push(`${program} runs before npm run build (dist/)`);
      if (!built.build) run.problems.push(`${program} runs before npm run build:test`);
    } else {
      const name = script ?? "start";
      if (scripts[name] === undefined) run.problems.push(`no npm script ${name}`);
      else follow(scripts[name], run, built);
    }
  }
  return run;
}

describe("the header of each example", () => {
  it("exists for every program", () => {
    assert.ok(examples.length > 0);
    assert.deepEqual(
      examples.filter((file) => header(file) === ""),
      [],
    );
  });

  for (const file of examples) {
    it(`${file} says how to run it from a fresh clone`, () => {
      const text = header(file);
      assert.match(text, /`npm ci`/, "starts from npm ci, as the README's quick start does");
      const { programs, problems } = follow(text, { programs: [], problems: [] });
      assert.deepEqual(problems, [], text);
      const itself = `.build/${file.replace(/\.ts$/, ".js")}`;
      assert.ok(programs.includes(itself), `no command runs ${itself}:\n${text}`);
    });
  }
});
