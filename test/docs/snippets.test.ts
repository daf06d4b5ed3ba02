/**
 * Every ```ts block of README.md and docs/ typechecks as a module of its own,
 * against the built package (`dist/`, through the package's self-reference
 * "websockets-ts", as a user's code resolves it), with the project's own
 * strict compiler options. An API change that leaves the docs behind fails
 * here instead of in a newcomer's editor.
 *
 * The snippets are never written to disk: a compiler host serves them from
 * memory at paths next to their Markdown file (inside the package, so the
 * self-reference resolves), and one program checks them all at once.
 * A block that cannot be a module carries `<!-- not checked: reason -->` on
 * the line before its fence, and shows up here as a skipped test.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { type CodeBlock, codeBlocks, markdownFiles, ROOT, readMarkdown } from "./markdown.js";

const root = fileURLToPath(ROOT);

/** A ```ts block and the in-memory module it becomes. */
interface Snippet extends CodeBlock {
  /** The Markdown file, relative to the root. */
  readonly file: string;
  /** The module's absolute path: the Markdown file's, plus the fence's line and `.ts`. */
  readonly path: string;
}

const TYPESCRIPT = new Set(["ts", "typescript"]);

const snippets: Snippet[] = markdownFiles(root).flatMap((file) =>
  codeBlocks(readMarkdown(root, file))
    .filter((block) => TYPESCRIPT.has(block.lang))
    .map((block) => ({ ...block, file, path: join(root, `${file}.${block.line}.ts`) })),
);

/**
 * The project's compiler options (tsconfig.base.json: strict, NodeNext, ES2022,
 * `types: ["node"]`, the disposable lib...), minus what only concerns emitting.
 * Unused parameters are fine in a snippet, and so are unused variables (one
 * that shows how to get a connection need not go on to use it: see
 * {@link unusedOutsideImports}), but not unused imports.
 */
function compilerOptions(): ts.CompilerOptions {
  const path = join(root, "tsconfig.base.json");
  const { config, error } = ts.readConfigFile(path, ts.sys.readFile);
  assert.equal(error, undefined, "tsconfig.base.json parses");
  const { options, errors } = ts.convertCompilerOptionsFromJson(config.compilerOptions, root, path);
  assert.deepEqual(errors, [], "tsconfig.base.json's options are valid");
  return {
    ...options,
    noEmit: true,
    incremental: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    noUnusedParameters: false,
  };
}

/**
 * A module that documents two declarations wrongly, in the same program as the
 * snippets: proof that {@link documentedMismatches} notices.
 */
const CANARY = {
  path: join(root, "test/docs/canary.ts"),
  code: [
    'import type { ConnectOptions } from "websockets-ts";',
    "declare function connect(uri: string, options?: ConnectOptions): Promise<string>;",
    "type Routes = Readonly<Record<string, number>>;",
  ].join("\n"),
};

/** One program over every snippet, the rest of the file system read as usual. */
function createProgram(options: ts.CompilerOptions): ts.Program {
  const sources = new Map(snippets.map((snippet) => [snippet.path, snippet.code]));
  sources.set(CANARY.path, CANARY.code);
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (path) => sources.has(path) || fileExists.call(host, path);
  host.readFile = (path) => sources.get(path) ?? readFile.call(host, path);
  host.getSourceFile = (path, language, onError, create) => {
    const source = sources.get(path);
    return source === undefined
      ? getSourceFile.call(host, path, language, onError, create)
      : ts.createSourceFile(path, source, language, true);
  };
  return ts.createProgram({ rootNames: [...sources.keys()], options, host });
}

/** "declared but never used" and its variants: `noUnusedLocals`'s diagnostics. */
const UNUSED = new Set([6133, 6192, 6196, 6198, 6199, 6205]);

/** Whether a diagnostic is about something unused, other than an import. */
function unusedOutsideImports(diagnostic: ts.Diagnostic, source: ts.SourceFile): boolean {
  if (!UNUSED.has(diagnostic.code) || diagnostic.start === undefined) return false;
  const start = diagnostic.start;
  return !source.statements.some(
    (statement) =>
      ts.isImportDeclaration(statement) && statement.getStart() <= start && start < statement.end,
  );
}

/** A diagnostic as `file.md:line:column TS1234: message`, lines counted in the Markdown file. */
function describeDiagnostic(diagnostic: ts.Diagnostic, snippet?: Snippet): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n    ");
  const { file, start } = diagnostic;
  if (file === undefined || start === undefined) return `TS${diagnostic.code}: ${message}`;
  const { line, character } = file.getLineAndCharacterOfPosition(start);
  const where =
    snippet !== undefined && file.fileName === snippet.path
      ? `${snippet.file}:${snippet.line + 1 + line}:${character + 1}`
      : `${file.fileName}:${line + 1}:${character + 1}`;
  return `${where} TS${diagnostic.code}: ${message}`;
}

/** The declaration an entry point of the package exports as `name`, if any. */
function exported(program: ts.Program, from: string, entry: string, name: string) {
  const checker = program.getTypeChecker();
  const { resolvedModule } = ts.resolveModuleName(
    entry,
    from,
    program.getCompilerOptions(),
    ts.sys,
    undefined,
    undefined,
    ts.ModuleKind.ESNext,
  );
  const file = resolvedModule && program.getSourceFile(resolvedModule.resolvedFileName);
  const module = file && checker.getSymbolAtLocation(file);
  const symbol = module && checker.getExportsOfModule(module).find((s) => s.name === name);
  if (symbol === undefined) return undefined;
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

/**
 * Signature listings, checked against the package. A snippet that declares
 * what the package exports under the same name (`declare function connect(…)`,
 * `declare class WebSocket {…}`, `type Handler = …`) documents it: the real
 * function or class must be usable wherever the documented one is (so a
 * listing may leave members out, but not get a parameter or a result wrong),
 * and a documented type must be the real one. The entry point is the one the
 * snippet imports from, "websockets-ts" if it imports nothing.
 */
function documentedMismatches(
  program: ts.Program,
  source: ts.SourceFile,
  where: (line: number) => string,
): string[] {
  const checker = program.getTypeChecker();
  const entries = source.statements
    .filter(ts.isImportDeclaration)
    .map((statement) => (statement.moduleSpecifier as ts.StringLiteral).text)
    .filter((specifier) => /^websockets-ts(\/|$)/.test(specifier));
  if (entries.length === 0) entries.push("websockets-ts");
  const text = (type: ts.Type) =>
    checker.typeToString(type, undefined, ts.TypeFormatFlags.InTypeAlias);
  const signatures = (type: ts.Type) =>
    checker
      .getSignaturesOfType(type, ts.SignatureKind.Call)
      .map((signature) => checker.signatureToString(signature))
      .join("; ");
  const mismatches: string[] = [];
  for (const statement of source.statements) {
    const isValue =
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) &&
      (ts.getCombinedModifierFlags(statement) & ts.ModifierFlags.Ambient) !== 0;
    const isType = ts.isTypeAliasDeclaration(statement) || ts.isInterfaceDeclaration(statement);
    if (!(isValue || isType) || statement.name === undefined) continue;
    const name = statement.name.text;
    const documented = checker.getSymbolAtLocation(statement.name);
    const found = entries
      .map((entry) => ({ entry, real: exported(program, source.fileName, entry, name) }))
      .find(({ real }) => real !== undefined);
    if (documented === undefined || found === undefined) continue;
    const { entry, real } = found as { entry: string; real: ts.Symbol };
    const { line } = source.getLineAndCharacterOfPosition(statement.getStart());
    const mismatch = (what: string) =>
      mismatches.push(`${where(line)} ${name} ${what} (from "${entry}")`);
    if (ts.isFunctionDeclaration(statement)) {
      const [doc, actual] = [checker.getTypeOfSymbol(documented), checker.getTypeOfSymbol(real)];
      if (!checker.isTypeAssignableTo(actual, doc)) {
        mismatch(`is really ${signatures(actual)}`);
      }
    } else if (ts.isClassDeclaration(statement)) {
      const doc = checker.getDeclaredTypeOfSymbol(documented);
      const actual = checker.getDeclaredTypeOfSymbol(real);
      if (!checker.isTypeAssignableTo(actual, doc)) {
        mismatch("has members other than the documented ones");
      }
      const documentsConstructor = statement.members.some(ts.isConstructorDeclaration);
      const [docStatic, realStatic] = [
        checker.getTypeOfSymbol(documented),
        checker.getTypeOfSymbol(real),
      ];
      if (documentsConstructor && !checker.isTypeAssignableTo(realStatic, docStatic)) {
        mismatch("has another constructor");
      }
    } else {
      const doc = checker.getDeclaredTypeOfSymbol(documented);
      const actual = checker.getDeclaredTypeOfSymbol(real);
      if (!checker.isTypeAssignableTo(actual, doc) || !checker.isTypeAssignableTo(doc, actual)) {
        const declaration = real.declarations?.[0];
        const shown =
          declaration !== undefined && ts.isTypeAliasDeclaration(declaration)
            ? declaration.type.getText()
            : text(actual);
        mismatch(`is really ${shown}`);
      }
    }
  }
  return mismatches;
}

describe("the TypeScript snippets of README.md and docs/", () => {
  let program: ts.Program;

  before(() => {
    assert.ok(
      existsSync(join(root, "dist/index.d.ts")),
      "dist/ is built (npm test builds it; else run npx tsc -p tsconfig.json)",
    );
    program = createProgram(compilerOptions());
  });

  it("are found, and the program over them has no global errors", () => {
    // A floor, so that a parsing mistake that finds no block fails rather than passes.
    assert.ok(snippets.length >= 50, `found ${snippets.length} snippets`);
    const errors = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
    assert.deepEqual(
      errors.map((error) => describeDiagnostic(error)),
      [],
    );
  });

  it("resolve the package to dist/, as a user's code does", () => {
    const resolved = ts.resolveModuleName(
      "websockets-ts",
      snippets[0]!.path,
      program.getCompilerOptions(),
      ts.sys,
      undefined,
      undefined,
      ts.ModuleKind.ESNext,
    ).resolvedModule;
    assert.equal(resolved?.resolvedFileName, join(root, "dist/index.d.ts"));
  });

  it("compare signature listings with the package", () => {
    const canary = program.getSourceFile(CANARY.path)!;
    assert.deepEqual(
      program
        .getSemanticDiagnostics(canary)
        .filter((d) => !unusedOutsideImports(d, canary))
        .map((d) => describeDiagnostic(d)),
      [],
    );
    const [connect, routes, ...rest] = documentedMismatches(
      program,
      canary,
      (line) => `line ${line + 1}:`,
    );
    assert.match(
      connect!,
      /^line 2: connect is really \(uri: string \| URL, .*Promise<ClientConnection>/,
    );
    assert.match(routes!, /^line 3: Routes is really Readonly<Record<string, Handler>> /);
    assert.deepEqual(rest, []);
  });

  for (const snippet of snippets) {
    const name = `${snippet.file}:${snippet.line}`;
    if (snippet.notChecked !== undefined) {
      it(name, { skip: `not checked: ${snippet.notChecked}` }, () => {});
      continue;
    }
    it(name, () => {
      const source = program.getSourceFile(snippet.path);
      assert.ok(source !== undefined, `${snippet.path} is in the program`);
      const diagnostics = [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ].filter((diagnostic) => !unusedOutsideImports(diagnostic, source));
      assert.deepEqual(
        [
          ...diagnostics.map((diagnostic) => describeDiagnostic(diagnostic, snippet)),
          ...documentedMismatches(
            program,
            source,
            (line) => `${snippet.file}:${snippet.line + 1 + line}`,
          ),
        ],
        [],
        `the snippet at ${name}:\n${snippet.code}`,
      );
    });
  }
});

describe("the code block reader", () => {
  it("finds fences of backticks and tildes, with info strings, and the not-checked marker", () => {
    const text = [
      "# Title", // 1
      "```ts title=example", // 2
      "const a = 1;",
      "```",
      "<!-- not checked: a signature -->", // 5
      "````typescript", // 6
      "```",
      "````",
      "  ~~~", // 9
      "  indented",
      "  ~~~",
      "```TS", // 12
      "unclosed",
    ].join("\n");
    assert.deepEqual(
      codeBlocks(text).map(({ lang, line, end, code, notChecked }) => ({
        lang,
        line,
        end,
        code,
        notChecked,
      })),
      [
        { lang: "ts", line: 2, end: 4, code: "const a = 1;", notChecked: undefined },
        { lang: "typescript", line: 6, end: 8, code: "```", notChecked: "a signature" },
        { lang: "", line: 9, end: 11, code: "indented", notChecked: undefined },
        { lang: "ts", line: 12, end: 13, code: "unclosed", notChecked: undefined },
      ],
    );
  });
});

describe("<!-- not checked: reason --> markers", () => {
  it("each precede a ```ts block and give a reason", () => {
    const misplaced: string[] = [];
    for (const file of markdownFiles(root)) {
      const lines = readMarkdown(root, file).split("\n");
      const blocks = new Map(codeBlocks(lines.join("\n")).map((block) => [block.line, block]));
      lines.forEach((line, index) => {
        if (!/<!--\s*not checked/.test(line)) return;
        const block = blocks.get(index + 2);
        if (block === undefined || !TYPESCRIPT.has(block.lang) || !block.notChecked) {
          misplaced.push(`${file}:${index + 1}`);
        }
      });
    }
    assert.deepEqual(misplaced, []);
  });
});
