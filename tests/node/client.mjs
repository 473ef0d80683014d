// A Node controller as artists' tools send: whole numbers as OSC ints, and bundles.
// Usage: node client.mjs <daemon port>. Sends, then asks for /latentscore/state at its own
// node-osc Server and prints every message received as one JSON line, then exits.
import { Bundle, Client, Server } from 'node-osc';

const port = Number(process.argv[2]);
const P = '/latentscore';
const server = new Server(0, '127.0.0.1');
await new Promise((resolve) => server.on('listening', resolve));
const client = new Client('127.0.0.1', port);

await client.send(`${P}/brightness`, 1); // a fader at its top: node-osc sends the int 1
await client.send(`${P}/space`, 0); // and at its bottom: int 0
await client.send(`${P}/density`, 1);
await client.send(new Bundle([`${P}/tempo`, 1], [`${P}/echo`, 0], [`${P}/mode`, 'dorian']));
await client.send(`${P}/index/pad`, 2);

const received = [];
server.on('message', (msg) => {
  received.push(msg);
  if (msg[0] === `${P}/title`) {
    for (const m of received) console.log(JSON.stringify(m));
    client.close();
    server.close();
  }
});
await new Promise((resolve) => setTimeout(resolve, 200)); // (UDP: let the changes land first)
await client.send(`${P}/state`, server.port);
setTimeout(() => {
  console.error('no /latentscore/state reply');
  process.exit(1);
}, 5000).unref();
