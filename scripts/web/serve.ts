// A static file server for the built risk page (target/web): `make web` runs it. Nothing
// but files: the page computes everything in the browser.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, isAbsolute, join, normalize, relative } from "node:path";

import { buildWeb, OUT } from "./build.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".png": "image/png",
};

/** Serves `dir` on 127.0.0.1:`port` (0: any free port); resolves once listening. */
export function serve(dir: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("bad request");
      return;
    }
    const file = normalize(join(dir, path === "/" ? "index.html" : path));
    // Only files inside `dir` (not a sibling that shares its name as a prefix).
    const inside = relative(dir, file);
    if (inside.startsWith("..") || isAbsolute(inside) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const stream = createReadStream(file);
    stream.on("error", () => res.destroy());
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    stream.pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () => {
      const a = server.address();
      const p = typeof a === "object" && a ? a.port : port;
      resolve({ server, url: `http://127.0.0.1:${p}/` });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8080);
  await buildWeb();
  const { url } = await serve(OUT, port);
  console.log(`the risk page: ${url}  (Ctrl-C stops)`);
}
