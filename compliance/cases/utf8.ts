/**
 * Section 6, UTF-8 handling (RFC 6455 §8.1, RFC 3629): valid text in any
 * fragmentation is echoed; invalid text fails the connection with 1007, and
 * strictly at the fragment where the bytes stop being valid UTF-8 (6.4).
 *
 * The byte sequences of 6.5–6.23 are Markus Kuhn's UTF-8 decoder stress test
 * as the Autobahn|Testsuite selects them.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { type CaseDefinition, CLEAN_CLOSE, FAIL_UTF8, observe } from "../case.js";
import { WireOpcode } from "../wire.js";

const { TEXT, CONT } = WireOpcode;

/** κόσμε: Greek, two- and three-byte sequences. */
const KOSME = "cebae1bdb9cf83cebcceb5";
const HELLO_UTF8 = "Hello-µ@ßöäüàá-UTF-8!!";

const hex = (text: string): Buffer => Buffer.from(text, "hex");

/** Autobahn's 6.5–6.23 groups: a title and [valid, hex bytes] pairs. */
function sequenceGroups(): [string, [boolean, string][]][] {
  const kosme = hex(KOSME);
  const prefixes: [boolean, string][] = [];
  for (let i = 1; i <= kosme.length; i++) {
    const prefix = kosme.subarray(0, i);
    prefixes.push([
      Buffer.from(prefix.toString("utf8"), "utf8").equals(prefix),
      prefix.toString("hex"),
    ]);
  }
  const range = (from: number, to: number, separator = "") => {
    let out = "";
    for (let byte = from; byte < to; byte++) out += byte.toString(16).padStart(2, "0") + separator;
    return out;
  };
  const missingLast = ["c0", "e080", "f08080", "f8808080", "fc80808080"].concat([
    "df",
    "efbf",
    "f7bfbf",
    "fbbfbfbf",
    "fdbfbfbfbf",
  ]);
  const nonCharacters: [boolean, string][] = [
    [true, "efbfbe"],
    [true, "efbfbf"],
  ];
  for (const lead of ["f0", "f1", "f2", "f3", "f4"]) {
    for (const second of ["8f", "9f", "af", "bf"]) {
      if (lead === "f4" && second !== "8f") continue; // above U+10FFFF
      for (const last of ["be", "bf"]) {
        const bytes = `${lead}${second}bf${last}`;
        if (bytes.startsWith("f08f")) continue; // overlong
        nonCharacters.push([true, bytes]);
      }
    }
  }
  const valid = (...list: string[]) => list.map((h): [boolean, string] => [true, h]);
  const invalid = (...list: string[]) => list.map((h): [boolean, string] => [false, h]);
  const ascii = (text: string) => Buffer.from(text, "latin1").toString("hex");
  return [
    [
      "Some valid UTF-8 sequences",
      valid(
        `${ascii("hello")}24${ascii("world")}`,
        `${ascii("hello")}c2a2${ascii("world")}`,
        `${ascii("hello")}e282ac${ascii("world")}`,
        `${ascii("hello")}f0a4ada2${ascii("world")}`,
        KOSME,
      ),
    ],
    ["All prefixes of a valid UTF-8 string with multi-byte code points", prefixes],
    ["First possible sequence of each length", valid("00", "c280", "e0a080", "f0908080")],
    ["First possible sequence of length 5 and 6 (invalid)", invalid("f888808080", "fc8480808080")],
    ["Last possible sequence of each length", valid("7f", "dfbf", "efbfbf", "f48fbfbf")],
    [
      "Last possible sequence of length 4, 5, 6 (invalid)",
      invalid("f7bfbfbf", "fbbfbfbfbf", "fdbfbfbfbfbf"),
    ],
    [
      "Other boundary conditions",
      [...valid("ed9fbf", "ee8080", "efbfbd", "f48fbfbf"), ...invalid("f4908080")],
    ],
    [
      "Unexpected continuation bytes",
      invalid(
        "80",
        "bf",
        "80bf",
        "80bf80",
        "80bf80bf",
        "80bf80bf80",
        "80bf80bf80bf",
        range(0x80, 0xbf),
      ),
    ],
    [
      "Lonely start characters",
      invalid(
        range(0xc0, 0xdf, "20"),
        range(0xe0, 0xef, "20"),
        range(0xf0, 0xf7, "20"),
        range(0xf8, 0xfb, "20"),
        range(0xfc, 0xfd, "20"),
      ),
    ],
    ["Sequences with the last continuation byte missing", invalid(...missingLast)],
    ["Concatenation of incomplete sequences", invalid(missingLast.join(""))],
    ["Impossible bytes", invalid("fe", "ff", "fefeffff")],
    [
      "Overlong ASCII character",
      invalid("c0af", "e080af", "f08080af", "f8808080af", "fc80808080af"),
    ],
    [
      "Maximum overlong sequences",
      invalid("c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf"),
    ],
    ["Overlong NUL", invalid("c080", "e08080", "f0808080", "f880808080", "fc8080808080")],
    [
      "Single UTF-16 surrogates",
      invalid("eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf"),
    ],
    [
      "Paired UTF-16 surrogates",
      invalid(
        "eda080edb080",
        "eda080edbfbf",
        "edadbfedb080",
        "edadbfedbfbf",
        "edae80edb080",
        "edae80edbfbf",
        "edafbfedb080",
        "edafbfedbfbf",
      ),
    ],
    ["Non-character code points (valid UTF-8)", nonCharacters],
    [
      "Unicode specials",
      valid("efbfb9", "efbfba", "efbfbb", "efbfbc", "efbfbd", "efbfbe", "efbfbf"),
    ],
  ];
}

function echoCase(
  id: string,
  description: string,
  message: Buffer,
  frames: readonly { payload: Buffer; fin: boolean }[],
): CaseDefinition {
  return {
    id,
    description,
    expectation: "The message is echoed; a clean close with 1000.",
    expected: { OK: [observe.text(message)] },
    close: CLEAN_CLOSE,
    async run(peer) {
      for (const [i, frame] of frames.entries()) {
        await peer.send({ opcode: i === 0 ? TEXT : CONT, ...frame });
      }
      peer.closeAfter(1_000);
      return undefined;
    },
  };
}

/** Splits a payload into frames of `size` bytes. */
function fragments(payload: Buffer, size: number): { payload: Buffer; fin: boolean }[] {
  const out = [];
  for (let offset = 0; offset < payload.length; offset += size) {
    out.push({
      payload: payload.subarray(offset, offset + size),
      fin: offset + size >= payload.length,
    });
  }
  return out;
}

function invalidCase(
  id: string,
  description: string,
  payload: Buffer,
  fragmentSize?: number,
  killAfter = 1_000,
): CaseDefinition {
  return {
    id,
    description,
    expectation: "The connection is failed at once with 1007.",
    expected: { OK: [] },
    close: FAIL_UTF8,
    async run(peer) {
      await peer.sendMessage(payload, fragmentSize ? { fragmentSize } : {});
      peer.killAfter(killAfter);
      return undefined;
    },
  };
}

/**
 * 6.4: the invalid byte arrives in the second of three parts, with waits in
 * between. Failing after the second part is strict; failing only once the
 * message is complete is NON-STRICT.
 */
function failFastCase(
  id: string,
  parts: readonly [string, string, string],
  inOneFrame: boolean,
): CaseDefinition {
  const [first, second, third] = parts.map(hex) as [Buffer, Buffer, Buffer];
  return {
    id,
    description:
      `Sends an invalid text message in 3 ${inOneFrame ? "pieces of one frame" : "frames"}: ` +
      `${parts[0]} (valid), a 1 s wait, ${parts[1]} (makes it invalid), a 1 s wait, ` +
      `${parts[2]}.`,
    expectation:
      `The ${inOneFrame ? "piece" : "frame"} with the invalid bytes fails the connection ` +
      "with 1007 at once (fail fast); failing only at the end of the message is NON-STRICT.",
    expected: {
      OK: [observe.timeout("A")],
      "NON-STRICT": [observe.timeout("A"), observe.timeout("B")],
    },
    close: FAIL_UTF8,
    async run(peer) {
      const whole = Buffer.concat([first, second, third]);
      let pieces: Buffer[];
      if (inOneFrame) {
        const frame = peer.encode({ opcode: TEXT, payload: whole });
        const headerLength = frame.length - whole.length;
        const cut1 = headerLength + first.length;
        const cut2 = cut1 + second.length;
        pieces = [frame.subarray(0, cut1), frame.subarray(cut1, cut2), frame.subarray(cut2)];
      } else {
        pieces = [
          peer.encode({ opcode: TEXT, payload: first, fin: false }),
          peer.encode({ opcode: CONT, payload: second, fin: false }),
          peer.encode({ opcode: CONT, payload: third }),
        ];
      }
      await peer.sendRaw(pieces[0]!);
      if (!(await peer.wait(1_000, "A"))) return undefined;
      await peer.sendRaw(pieces[1]!);
      if (!(await peer.wait(1_000, "B"))) return undefined;
      await peer.sendRaw(pieces[2]!);
      peer.killAfter(1_000);
      return undefined;
    },
  };
}

/** Cases 6.1.1–6.23.7. */
export function utf8Cases(): CaseDefinition[] {
  const empty = Buffer.alloc(0);
  const middle = Buffer.from("middle frame payload");
  const hello = Buffer.from(HELLO_UTF8, "utf8");
  const kosme = hex(KOSME);
  const invalidMessage = hex(`${KOSME}eda080${Buffer.from("edited").toString("hex")}`);
  const cases: CaseDefinition[] = [
    echoCase("6.1.1", "Sends an empty text message.", empty, [{ payload: empty, fin: true }]),
    echoCase("6.1.2", "Sends a text message in 3 empty frames.", empty, [
      { payload: empty, fin: false },
      { payload: empty, fin: false },
      { payload: empty, fin: true },
    ]),
    echoCase("6.1.3", "Sends a text message in 3 frames: empty, non-empty, empty.", middle, [
      { payload: empty, fin: false },
      { payload: middle, fin: false },
      { payload: empty, fin: true },
    ]),
    echoCase("6.2.1", `Sends valid UTF-8 text in one frame: ${HELLO_UTF8}.`, hello, [
      { payload: hello, fin: true },
    ]),
    echoCase("6.2.2", "Sends valid UTF-8 text in 2 frames split on a code point boundary.", hello, [
      { payload: Buffer.from("Hello-µ@ßöä"), fin: false },
      { payload: Buffer.from("üàá-UTF-8!!"), fin: true },
    ]),
    echoCase(
      "6.2.3",
      "Sends valid UTF-8 text in 1-byte frames, splitting code points.",
      hello,
      fragments(hello, 1),
    ),
    echoCase(
      "6.2.4",
      `Sends valid UTF-8 text (${KOSME}) in 1-byte frames, splitting code points.`,
      kosme,
      fragments(kosme, 1),
    ),
    invalidCase(
      "6.3.1",
      `Sends invalid UTF-8 text in one frame: ${invalidMessage.toString("hex")}.`,
      invalidMessage,
    ),
    invalidCase("6.3.2", "Sends the same invalid UTF-8 text in 1-byte frames.", invalidMessage, 1),
    failFastCase("6.4.1", [KOSME, "f4908080", "656469746564"], false),
    failFastCase("6.4.2", [`${KOSME}f4`, "90", "8080656469746564"], false),
    failFastCase("6.4.3", [KOSME, "f4908080", "656469746564"], true),
    failFastCase("6.4.4", [`${KOSME}f4`, "90", "8080656469746564"], true),
  ];
  sequenceGroups().forEach(([title, sequences], group) => {
    sequences.forEach(([valid, bytes], i) => {
      const id = `6.${group + 5}.${i + 1}`;
      const payload = hex(bytes);
      if (valid) {
        cases.push({
          ...echoCase(id, `${title}: sends valid UTF-8 text ${bytes}.`, payload, [
            { payload, fin: true },
          ]),
          async run(peer) {
            await peer.send({ opcode: TEXT, payload });
            peer.killAfter(500);
            return undefined;
          },
        });
      } else {
        cases.push(
          invalidCase(id, `${title}: sends invalid UTF-8 text ${bytes}.`, payload, undefined, 500),
        );
      }
    });
  });
  return cases;
}
