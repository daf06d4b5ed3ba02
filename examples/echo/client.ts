// The seed's chapter 2 echo client: connect, send a line typed by the user,
// print the echo, close. From the repository root, after `npm ci`, start the
// echo server (`npm start`), then run this in another terminal with
// `npm run client`, which builds it first.
import { createInterface } from "node:readline/promises";
import { connect } from "websockets-ts";

const uri = process.argv[2] ?? "ws://127.0.0.1:8001";
console.log(`Attempting to connect to ${uri}...`);
{
  // Leaving this block sends a close frame (1000) and waits for the TCP close.
  await using client = await connect(uri);
  console.log("Connection successful!");

  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  const messageToSend = await terminal.question("Enter a message to send: ");
  terminal.close();

  console.log(">>> Sending:", messageToSend);
  await client.send(messageToSend);

  console.log("<<< Waiting for echo...");
  const receivedMessage = await client.recvText();
  console.log("<<< Received:", receivedMessage);
}
console.log("Connection closed.");
