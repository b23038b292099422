// The scenarios that go through the long-lived library workers (S4 and import time run in
// fresh processes; see memory-child.mjs and import-time.mjs).
//
// Each scenario names the sink ("plain", "chunking" with CHUNKING advertised, "tls" with
// STARTTLS), whether the client dials the sink directly or through the 10 ms delay proxy,
// the adapter call ("oneConnection": every message over one connection; "fresh": every
// message on a new transport, one after another) and what the sink must have seen.

const TEXT_BYTES = 400;

/** Contenders for "one connection" scenarios: every variant each library offers. */
function oneConnectionContenders(workers, { withPerMessageConnections = true } = {}) {
  const list = [];
  for (const [lib, worker] of Object.entries(workers)) {
    for (const v of worker.variants) {
      const perMessage = lib === "nodemailer" && v.id === "default";
      if (perMessage && !withPerMessageConnections) continue;
      list.push({ lib, variant: v.id, label: v.label, args: { variant: v.id }, perMessageConnections: perMessage });
    }
  }
  return list;
}

function freshContenders(workers, { withLogin = false } = {}) {
  const list = [];
  for (const lib of Object.keys(workers)) {
    if (lib === "ours") {
      list.push({ lib, variant: "plain", label: "ours: new transport per message, AUTH PLAIN", args: {} });
      if (withLogin) {
        list.push({ lib, variant: "login", label: "ours: same, default AUTH LOGIN", args: { authMethod: "login" } });
      }
    } else if (lib === "nodemailer") {
      list.push({ lib, variant: "default", label: "nodemailer: new transport per message", args: {} });
    } else {
      list.push({ lib, variant: "default", label: "upyo: new transport per message (pool: false)", args: {} });
    }
  }
  return list;
}

/**
 * @param {{quick?: boolean}} options quick: smaller counts for trying the harness out
 */
export function scenarios({ quick = false } = {}) {
  const n = (full, small) => (quick ? small : full);
  return [
    {
      id: "S1",
      title: "small messages over one connection, direct",
      sink: "plain", via: "direct", fn: "oneConnection",
      spec: { count: n(500, 50), textBytes: TEXT_BYTES },
      contenders: (w) => oneConnectionContenders(w),
      per: "message",
      warmup: true,
    },
    {
      id: "S2",
      title: "fresh connections, each AUTH + one message, sequential, direct",
      sink: "plain", via: "direct", fn: "fresh",
      spec: { count: n(50, 10), textBytes: TEXT_BYTES },
      contenders: (w) => freshContenders(w),
      per: "connection",
      warmup: true,
    },
    {
      id: "S6",
      title: "fresh STARTTLS + AUTH sends, sequential, direct (private CA)",
      sink: "tls", via: "direct", fn: "fresh", tls: true,
      spec: { count: n(20, 5), textBytes: TEXT_BYTES },
      contenders: (w) => freshContenders(w),
      per: "connection",
      warmup: true,
    },
    {
      id: "S3-one",
      title: "S1 through the 10 ms delay proxy, sink without CHUNKING",
      sink: "plain", via: "proxy", fn: "oneConnection",
      spec: { count: n(50, 10), textBytes: TEXT_BYTES },
      contenders: (w) => oneConnectionContenders(w, { withPerMessageConnections: false }),
      per: "message",
      roundTrips: true,
    },
    {
      id: "S3-one-chunking",
      title: "S1 through the 10 ms delay proxy, sink offers CHUNKING",
      sink: "chunking", via: "proxy", fn: "oneConnection",
      spec: { count: n(50, 10), textBytes: TEXT_BYTES },
      contenders: (w) => oneConnectionContenders(w, { withPerMessageConnections: false }),
      per: "message",
      roundTrips: true,
      chunking: true,
    },
    {
      id: "S3-fresh",
      title: "S2 through the 10 ms delay proxy, sink without CHUNKING",
      sink: "plain", via: "proxy", fn: "fresh",
      spec: { count: n(10, 3), textBytes: TEXT_BYTES },
      contenders: (w) => freshContenders(w, { withLogin: true }),
      per: "connection",
      roundTrips: true,
    },
    {
      id: "S3-fresh-chunking",
      title: "S2 through the 10 ms delay proxy, sink offers CHUNKING",
      sink: "chunking", via: "proxy", fn: "fresh",
      spec: { count: n(10, 3), textBytes: TEXT_BYTES },
      contenders: (w) => freshContenders(w),
      per: "connection",
      roundTrips: true,
      chunking: true,
    },
    {
      id: "S5",
      title: "one message to many recipients through the 10 ms delay proxy (fresh connection + AUTH)",
      sink: "plain", via: "proxy", fn: "fresh",
      spec: { count: 1, recipients: 100, textBytes: TEXT_BYTES },
      contenders: (w) => freshContenders(w),
      per: "message",
      roundTrips: true,
    },
  ];
}

/** What the sink must have seen after one run of `scenario` by `contender`. */
export function expectations(scenario, contender) {
  const { count, recipients = 1, textBytes } = scenario.spec;
  const connections = scenario.fn === "fresh" || contender.perMessageConnections ? count : 1;
  return {
    messages: count,
    connections,
    auths: connections,
    tlsUpgrades: scenario.tls ? connections : 0,
    recipients,
    // Each library composes its own MIME; the text must be there, and nothing huge.
    minSize: textBytes,
    maxSize: textBytes * 3 + 4096,
  };
}

/** Problems with one run, or an empty list. */
export function verify(expect, sink) {
  const problems = [];
  const eq = (what, got, want) => {
    if (got !== want) problems.push(`${what}: sink saw ${got}, expected ${want}`);
  };
  eq("messages", sink.messages, expect.messages);
  eq("connections", sink.connections, expect.connections);
  eq("successful AUTHs", sink.auths, expect.auths);
  eq("TLS upgrades", sink.tlsUpgrades, expect.tlsUpgrades);
  eq("failed AUTHs", sink.authFailures, 0);
  const badSize = sink.sizes.find((s) => s < expect.minSize || s > expect.maxSize);
  if (badSize !== undefined) problems.push(`a message of ${badSize} octets (expected ${expect.minSize}..${expect.maxSize})`);
  const badRcpt = sink.recipients.find((r) => r !== expect.recipients);
  if (badRcpt !== undefined) problems.push(`a message with ${badRcpt} recipients (expected ${expect.recipients})`);
  if (sink.errors.length > 0) problems.push(`sink refused commands: ${sink.errors.slice(0, 3).join("; ")}`);
  return problems;
}
