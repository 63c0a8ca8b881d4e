// Prometheus metrics for the services (prom-client): a registry per service and an HTTP
// endpoint serving it at /metrics.
import { createServer, type Server } from "node:http";

import client from "prom-client";

export type Registry = client.Registry;

/** A registry with Node's default process metrics, labelled with the service name. */
export function metricsRegistry(service: string): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  return registry;
}

export function counter<L extends string>(registry: client.Registry, name: string, help: string, labelNames: readonly L[]) {
  return new client.Counter<L>({ name, help, labelNames, registers: [registry] });
}

export function histogram<L extends string>(registry: client.Registry, name: string, help: string, labelNames: readonly L[], buckets: number[]) {
  return new client.Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
}

export function gauge<L extends string>(registry: client.Registry, name: string, help: string, labelNames: readonly L[]) {
  return new client.Gauge<L>({ name, help, labelNames, registers: [registry] });
}

/** Serves `registry` at http://host:port/metrics (404 elsewhere); resolves once listening. */
export function serveMetrics(registry: client.Registry, port: number, host = "127.0.0.1"): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end("not found: try /metrics\n");
      return;
    }
    registry
      .metrics()
      .then((body) => res.writeHead(200, { "Content-Type": registry.contentType }).end(body))
      .catch((e: unknown) => res.writeHead(500).end(String(e)));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
