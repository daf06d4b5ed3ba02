// The seed's chapter 2 echo client, blocking as written there: connect, read
// a line typed by the user, send it, wait for the echo, close. No await: each
// call returns when its work is done. From the repository root, after
// `npm ci`, start the echo server (`npm start`), then run this in another
// terminal with `npm run client:sync`, which builds it first.
import { readSync } from "node:fs";
import { connect } from "websockets-ts/sync";

/** Reads one line from standard input, blocking like the seed's `input()`. */
function input(prompt: string): string {
  process.stdout.write(prompt);
  const bytes: number[] = [];
  const byte = Buffer.alloc(1);
  for (;;) {
    let count: number;
    try {
      count = readSync(0, byte, 0, 1, null);
    } catch (error) {
      // A non-blocking stdin (some terminals and pipes) has nothing yet:
      // sleep 10 ms, without spinning, and try again.
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      throw error;
    }
    if (count === 0 || byte[0] === 0x0a) break;
    bytes.push(byte[0]!);
  }
  return Buffer.from(bytes).toString("utf8").replace(/\r$/, "");
}

const uri = process.argv[2] ?? "ws://127.0.0.1:8001";
console.log(`Attempting to connect to ${uri}...`);
{
  // Leaving this block sends a close frame (1000) and waits for the TCP close.
  using client = connect(uri);
  console.log("Connection successful!");

  const messageToSend = input("Enter a message to send: ");

  console.log(">>> Sending:", messageToSend);
  client.sendText(messageToSend);

  console.log("<<< Waiting for echo...");
  const receivedMessage = client.recvText();
  console.log("<<< Received:", receivedMessage);
}
console.log("Connection closed.");
