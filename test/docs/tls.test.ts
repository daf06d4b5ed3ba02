/**
 * docs/howto/tls.md's programs, run from a project of a user's, in the
 * root of the clone, where the page's relative paths to the test
 * certificates lead: its wss:// server on a free port instead of 8443,
 * against its client that passes the CA, against its client for a
 * public CA (the test CA made one for it with NODE_EXTRA_CA_CERTS), and
 * against that client without the CA, which fails as the page shows.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runNode } from "../helpers/child.js";
import { codeBlocks, readMarkdown } from "./markdown.js";
import { edit, examplesOf, fixture, root, startProgram } from "./programs.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/howto/tls.md";
const example = examplesOf(PAGE);

/** The error the page shows for an untrusted certificate, on one line. */
function shownError(): string {
  const found = codeBlocks(readMarkdown(root, PAGE)).filter(
    (block) => block.lang === "" && block.code.startsWith("SecurityError: "),
  );
  assert.equal(found.length, 1, `${PAGE} shows one SecurityError`);
  return found[0]!.code.trim().replaceAll("\n", " ");
}

describe(PAGE, () => {
  it("serves wss:// with the test certificate to the clients of the page", async () => {
    using project = scratchProject();
    // Port 0, not a port picked beforehand that another process could take first.
    const server = edit(
      example('console.log("Listening on wss://localhost:8443")'),
      "port: 8443",
      "port: 0",
    );
    await using running = await startProgram(project, "server", server, { cwd: root });
    await running.waitFor(/^Listening on wss:\/\/localhost:8443\n/m);
    const port = String(running.port);
    const run = (name: string, code: string, env: Record<string, string> = {}) => {
      project.writeProgram(name, code);
      return runNode([`${project.dir}/${name}.js`], { cwd: root, env });
    };

    // With the CA in tls.ca: the echo.
    const client = example('tls: { ca: readFileSync("test/fixtures/tls/ca.pem") }');
    const withCa = await run("client", client.replaceAll("8443", port));
    assert.deepEqual(withCa, { code: 0, stdout: "Hello over TLS!\n", stderr: "" });

    // With nothing: fine for a CA the system trusts, a SecurityError otherwise.
    const uri = `wss://localhost:${port}/`;
    const publicCa = edit(
      example('connect("wss://echo.example.com/")'),
      "wss://echo.example.com/",
      uri,
    );
    const trusted = await run("public-ca", publicCa, { NODE_EXTRA_CA_CERTS: fixture("ca.pem") });
    assert.deepEqual(trusted, { code: 0, stdout: "", stderr: "" });
    const untrusted = await run("public-ca", publicCa);
    assert.equal(untrusted.code, 1);
    assert.ok(
      untrusted.stderr.includes(shownError().replace("wss://localhost:8443/", uri)),
      untrusted.stderr,
    );

    assert.equal(running.child.exitCode, null, "the server still serves");
    assert.equal(running.stderr, "");
  });
});
