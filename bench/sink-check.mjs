// Self-check of the sink and the proxy's round-trip count: `node bench/sink-check.mjs`.
// Raw exchanges, each sent whole, split at every byte, and pipelined; asserts what the
// sink counted. Not part of `npm run bench`.

import assert from "node:assert/strict";
import net from "node:net";
import { createDelayProxy } from "./proxy.mjs";
import { createSink } from "./sink.mjs";

function client(port) {
  const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
  let text = "";
  const waiters = [];
  const pump = () => {
    while (waiters.length > 0) {
      // A complete reply: lines up to one whose fourth character is a space.
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3} [^\n]*\n/.exec(text);
      if (!m) return;
      text = text.slice(m[0].length);
      waiters.shift()(m[0]);
    }
  };
  socket.on("data", (d) => {
    text += d.toString("latin1");
    pump();
  });
  return {
    reply: () => new Promise((resolve) => {
      waiters.push(resolve);
      pump();
    }),
    write: (data) => new Promise((resolve) => socket.write(data, resolve)),
    async writeSplit(data) {
      const bytes = Buffer.from(data, "latin1");
      for (let i = 0; i < bytes.length; i++) await this.write(bytes.subarray(i, i + 1));
    },
    end: () => new Promise((resolve) => {
      socket.on("close", resolve);
      socket.end();
    }),
  };
}

const body = "Subject: x\r\n\r\n..leading dot (stuffed)\r\nline\r\n.\r\n";
const unstuffedSize = "Subject: x\r\n\r\n.leading dot (stuffed)\r\nline\r\n".length;

async function exchange(port, { split, chunking }) {
  const c = client(port);
  assert.match(await c.reply(), /^220 /);
  await c.write("EHLO check\r\n");
  const ehlo = await c.reply();
  assert.match(ehlo, /PIPELINING/);
  assert.equal(/CHUNKING/.test(ehlo), chunking);
  const send = split ? (d) => c.writeSplit(d) : (d) => c.write(d);
  await send(`AUTH PLAIN ${Buffer.from("\0bench\0bench-pass").toString("base64")}\r\n`);
  assert.match(await c.reply(), /^235 /);
  // Pipelined envelope and DATA.
  await send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n");
  for (const code of ["250", "250", "250", "354"]) assert.equal((await c.reply()).slice(0, 3), code);
  await send(body);
  assert.match(await c.reply(), /^250 /);
  // RSET and NOOP, pipelined.
  await send("RSET\r\nNOOP\r\n");
  assert.match(await c.reply(), /^250 /);
  assert.match(await c.reply(), /^250 /);
  if (chunking) {
    const part1 = "Subject: y\r\n\r\n.no stuffing with BDAT\r\n";
    const part2 = "last\r\n";
    await send(`MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nBDAT ${part1.length}\r\n${part1}BDAT ${part2.length} LAST\r\n${part2}`);
    for (let i = 0; i < 4; i++) assert.match(await c.reply(), /^250 /);
  }
  await send("QUIT\r\n");
  assert.match(await c.reply(), /^221 /);
  await c.end();
}

for (const chunking of [false, true]) {
  for (const split of [false, true]) {
    const sink = createSink({ chunking });
    const port = await sink.listen();
    await exchange(port, { split, chunking });
    const s = sink.stats();
    assert.equal(s.connections, 1);
    assert.equal(s.auths, 1);
    assert.equal(s.messages, chunking ? 2 : 1);
    assert.equal(s.sizes[0], unstuffedSize);
    assert.deepEqual(s.recipients.slice(0, 1), [2]);
    if (chunking) {
      assert.equal(s.sizes[1], "Subject: y\r\n\r\n.no stuffing with BDAT\r\n".length + "last\r\n".length);
      assert.equal(s.viaBdat, 1);
    }
    assert.deepEqual(s.errors, []);
    await sink.close();
  }
}

// AUTH LOGIN and AUTH PLAIN without an initial response.
{
  const sink = createSink();
  const port = await sink.listen();
  for (const steps of [
    ["AUTH LOGIN", "334", Buffer.from("bench").toString("base64"), "334", Buffer.from("bench-pass").toString("base64"), "235"],
    ["AUTH PLAIN", "334", Buffer.from("\0bench\0bench-pass").toString("base64"), "235"],
    ["AUTH PLAIN", "334", Buffer.from("\0bench\0wrong").toString("base64"), "535"],
  ]) {
    const c = client(port);
    await c.reply();
    await c.write("EHLO check\r\n");
    await c.reply();
    for (let i = 0; i < steps.length; i += 2) {
      await c.write(`${steps[i]}\r\n`);
      assert.equal((await c.reply()).slice(0, 3), steps[i + 1]);
    }
    await c.end();
  }
  assert.equal(sink.stats().auths, 2);
  assert.equal(sink.stats().authFailures, 1);
  await sink.close();
}

// Round trips through the proxy: EHLO (1), pipelined envelope + DATA (2), body (3), QUIT (4).
{
  const sink = createSink();
  const proxy = createDelayProxy({ targetPort: await sink.listen(), delayMs: 5 });
  const c = client(await proxy.listen());
  await c.reply();
  await c.write("EHLO check\r\n");
  await c.reply();
  await c.write("MAIL FROM:<a@example.com>\r\n");
  await c.write("RCPT TO:<b@example.com>\r\nDATA\r\n"); // no reply in between: same round trip
  for (let i = 0; i < 3; i++) await c.reply();
  await c.write(body);
  await c.reply();
  await c.write("QUIT\r\n");
  await c.reply();
  await c.end();
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(proxy.stats().turns, 4);
  assert.equal(sink.stats().messages, 1);
  await proxy.close();
  await sink.close();
}

console.log("sink and proxy checks passed");
