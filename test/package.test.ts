/**
 * The package as npm builds and packs it, in a scratch copy of the project
 * (package.json, the tsconfigs and src/), so that building there leaves this
 * checkout's dist/, which other test files read meanwhile, alone.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";

const root = fileURLToPath(new URL("../../", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs npm in `cwd`; bounded, since a build on a loaded machine takes a while. */
async function runNpm(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(npm, args, {
    cwd,
    timeout: 120_000,
    shell: process.platform === "win32",
  });
  return stdout;
}

describe("the package", () => {
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "websockets-ts-package-"));
    for (const file of ["package.json", "tsconfig.json", "tsconfig.base.json"]) {
      cpSync(join(root, file), join(scratch, file));
    }
    cpSync(join(root, "src"), join(scratch, "src"), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"), "junction");
    await runNpm(scratch, ["run", "build"]);
  });

  after(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it("npm run build leaves dist/cli.js executable, so npx websockets-ts runs after a rebuild", {
    skip: process.platform === "win32" ? "no execute bit on Windows" : false,
  }, () => {
    // tsc writes a new file without the execute bit; npm sets it only when
    // it links the bin, so after the next build's `rm -rf dist` the shell
    // refused to run the command ("Permission denied").
    const { mode } = statSync(join(scratch, "dist/cli.js"));
    assert.equal(mode & 0o111, 0o111, `mode ${(mode & 0o777).toString(8)}`);
  });

  it("npm pack ships dist/ without source maps or the compiler's build info", async () => {
    // --ignore-scripts: prepack would build again; the build above is the one packed.
    const stdout = await runNpm(scratch, ["pack", "--dry-run", "--json", "--ignore-scripts"]);
    const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const paths = files.map(({ path }) => path);
    assert.ok(paths.includes("dist/cli.js"), "the command is packed");
    assert.ok(paths.includes("dist/index.d.ts"), "the declarations are packed");
    assert.deepEqual(
      paths.filter((path) => path.endsWith(".map") || path.endsWith(".tsbuildinfo")),
      [],
    );
  });

  it("npm run build leaves @internal members out of the declarations, which still compile", () => {
    const dist = join(scratch, "dist");
    const declarations = readdirSync(dist, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".d.ts"))
      .map((file) => join(dist, file));
    assert.ok(declarations.length > 0);
    assert.deepEqual(
      declarations.filter((file) => readFileSync(file, "utf8").includes("@internal")),
      [],
      "stripInternal: the server's and the connections' plumbing is no API",
    );
    // A declaration that used what was left out would break a user's
    // build: checked as a user's compiler does with skipLibCheck off.
    const program = ts.createProgram(declarations, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: false,
      noEmit: true,
      types: ["node"],
      typeRoots: [join(root, "node_modules/@types")],
    });
    assert.deepEqual(
      ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
      [],
    );
  });
});
