/**
 * Worker entry (bundled with esbuild by run.mjs, run in workerd through Miniflare).
 * `GET /plan` lists the cases; `POST /run?name=...` with the config JSON as the body runs
 * one case and answers its result line. One request per case keeps each bounded and
 * keeps abandoned sockets from piling up in one request.
 *
 * @module
 */
import { cloudflareConnector } from "../../adapters/cloudflare.ts";
import { plan, runCase, selectCases } from "../conformance/runner.ts";
import { cases, type ConformanceConfig, makeContext } from "../conformance/suite.ts";

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const config = (await request.json()) as ConformanceConfig;
    const ctx = makeContext("cloudflare", cloudflareConnector, config);
    const selected = selectCases(cases, ctx);
    if (url.pathname === "/plan") return Response.json(plan(selected, ctx));
    if (url.pathname === "/run") {
      const name = url.searchParams.get("name");
      const c = selected.find((x) => x.name === name);
      if (!c) return new Response(`no case ${name}`, { status: 404 });
      return Response.json(await runCase(c, ctx));
    }
    return new Response("not found", { status: 404 });
  },
};
