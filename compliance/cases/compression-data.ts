/**
 * Test data for the compression cases. Autobahn compresses five files it
 * ships (a JSON file, a bitmap, Goethe's Faust, an HTML page, a PDF); this
 * suite generates stand-ins of the same kind and size, deterministically,
 * so that runs compare across commits without shipping the files.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** One data set: its bytes and how its messages are sent. */
export interface DataSet {
  readonly name: string;
  readonly description: string;
  readonly binary: boolean;
  readonly bytes: Buffer;
}

/** A small deterministic generator (mulberry32): the same data on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)]!;
}

/** Repeats `generate` until `size` bytes, then cuts to exactly `size`. */
function fill(size: number, generate: () => string | Buffer): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  while (length < size) {
    const part = generate();
    const bytes = typeof part === "string" ? Buffer.from(part, "utf8") : part;
    parts.push(bytes);
    length += bytes.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}

const WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "lambda", "theta"];
const CITIES = ["Berlin", "Paris", "Lisbon", "Osaka", "Quito", "Nairobi", "Oslo", "Perth"];

function json(): Buffer {
  const next = random(1);
  let id = 0;
  return fill(194056, () => {
    id++;
    const record = {
      id,
      guid: Math.floor(next() * 2 ** 32)
        .toString(16)
        .padStart(8, "0"),
      active: next() < 0.5,
      balance: Math.round(next() * 1e6) / 100,
      name: `${pick(next, WORDS)} ${pick(next, WORDS)}`,
      city: pick(next, CITIES),
      tags: [pick(next, WORDS), pick(next, WORDS), pick(next, WORDS)],
      location: {
        lat: Math.round(next() * 18e4) / 1e3 - 90,
        lon: Math.round(next() * 36e4) / 1e3 - 180,
      },
    };
    return `${id === 1 ? "[" : ","}${JSON.stringify(record)}\n`;
  });
}

function bitmap(): Buffer {
  const next = random(2);
  const width = 512;
  const header = Buffer.alloc(54 + 1024);
  header.write("BM", 0, "latin1");
  header.writeUInt32LE(263222, 2);
  header.writeUInt32LE(54 + 1024, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(width, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(8, 28);
  for (let i = 0; i < 256; i++) header.writeUInt32LE(i * 0x010101, 54 + i * 4);
  const pixels = Buffer.alloc(width * width);
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < width; x++) {
      // Smooth shapes and a little noise, like a photograph.
      const shade = 128 + 60 * Math.sin(x / 37) * Math.cos(y / 23) + 40 * Math.sin((x + y) / 91);
      pixels[y * width + x] = Math.max(0, Math.min(255, Math.round(shade + (next() - 0.5) * 12)));
    }
  }
  return Buffer.concat([header, pixels]);
}

const GERMAN = [
  "Habe",
  "nun",
  "ach",
  "Philosophie",
  "Juristerei",
  "und",
  "Medizin",
  "leider",
  "auch",
  "Theologie",
  "durchaus",
  "studiert",
  "mit",
  "heißem",
  "Bemühn",
  "da",
  "steh",
  "ich",
  "armer",
  "Tor",
  "bin",
  "so",
  "klug",
  "als",
  "wie",
  "zuvor",
  "Geister",
  "über",
  "schön",
  "Gretchen",
];

function faust(): Buffer {
  const next = random(3);
  return fill(222218, () => {
    const words = Array.from({ length: 4 + Math.floor(next() * 8) }, () => pick(next, GERMAN));
    const speaker =
      next() < 0.15 ? `\n${pick(next, ["FAUST", "MEPHISTOPHELES", "WAGNER"])}:\n` : "";
    return `${speaker}${words.join(" ")}${pick(next, [",", ".", "!", ";"])}\n`;
  });
}

function html(): Buffer {
  const next = random(4);
  let row = 0;
  return fill(263775, () => {
    row++;
    if (row === 1) return "<!DOCTYPE html>\n<html><head><title>Data</title></head><body><table>\n";
    const cells = Array.from(
      { length: 5 },
      () =>
        `<td class="${pick(next, WORDS)}">${pick(next, CITIES)} ${Math.floor(next() * 1e5)}</td>`,
    );
    return `<tr id="row-${row}">${cells.join("")}<td><a href="/item/${row}">details</a></td></tr>\n`;
  });
}

function pdf(): Buffer {
  const next = random(5);
  let object = 0;
  return fill(1042328, () => {
    object++;
    if (object === 1) return "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
    if (object % 3 === 0) {
      // Text content.
      const text = Array.from({ length: 40 }, () => `(${pick(next, WORDS)}) Tj 0 -12 Td`).join(
        "\n",
      );
      return `${object} 0 obj\n<< /Length ${text.length} >>\nstream\n${text}\nendstream\nendobj\n`;
    }
    // An already-compressed stream: bytes that do not compress.
    const data = Buffer.alloc(2048 + Math.floor(next() * 4096));
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(next() * 256);
    return Buffer.concat([
      Buffer.from(`${object} 0 obj\n<< /Filter /FlateDecode /Length ${data.length} >>\nstream\n`),
      data,
      Buffer.from("\nendstream\nendobj\n"),
    ]);
  });
}

let cache: DataSet[] | null = null;

/** The five data sets, in the order of Autobahn's 12.1–12.5. */
export function dataSets(): readonly DataSet[] {
  cache ??= [
    { name: "json", description: "Large JSON data file", binary: false, bytes: json() },
    { name: "bitmap", description: "Bitmap 512x512 grey", binary: true, bytes: bitmap() },
    { name: "faust", description: "Human readable text (German)", binary: true, bytes: faust() },
    { name: "html", description: "Large HTML file", binary: false, bytes: html() },
    { name: "pdf", description: "A larger PDF", binary: true, bytes: pdf() },
  ];
  return cache;
}
