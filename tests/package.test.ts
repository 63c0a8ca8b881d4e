// The client as a package: `npm pack` of app/ (its `prepack` builds JavaScript and type
// declarations into dist/), the tarball installed into an empty project, then imported from
// plain Node (ESM) and type-checked from TypeScript, and its command-line bins run. What an
// integrator does with the published package, not the workspace's source.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WORK = join(ROOT, "target", "package-test");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

test("the packed client installs into an empty project and imports from Node and TypeScript", () => {
  rmSync(WORK, { recursive: true, force: true });
  const project = join(WORK, "project");
  mkdirSync(project, { recursive: true });

  // Pack: the build runs first (prepack); the tarball holds dist/ only, never the sources.
  const packed = JSON.parse(
    run("npm", ["pack", "--workspace", "app", "--pack-destination", WORK, "--json", "--silent"], ROOT),
  ) as { filename: string; version: string; files: { path: string }[] }[];
  const pack = packed[0];
  assert.ok(pack, "npm pack printed no package");
  const files = pack.files.map((f) => f.path);
  for (const wanted of ["package.json", "dist/index.js", "dist/index.d.ts", "dist/idl/xmargin.json", "dist/bin/liquidator.js", "dist/bin/keeper.js", "dist/bin/governance.js", "wasm/xmargin_engine.wasm"]) {
    assert.ok(files.includes(wanted), `${wanted} missing from the tarball: ${files.join(", ")}`);
  }
  assert.deepEqual(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), [], "TypeScript sources in the tarball");
  const manifest = JSON.parse(readFileSync(join(ROOT, "app", "package.json"), "utf8")) as Record<string, unknown>;
  assert.equal(manifest.private, undefined, "the package must be publishable");
  assert.equal(pack.version, manifest.version);

  // Install the tarball (its dependencies from the npm cache the workspace install filled),
  // and @types/node for the TypeScript consumer.
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--silent", join(WORK, pack.filename), "@types/node@20.19.43"],
    project,
  );

  // Plain Node, ESM: the client derives the exchange and names an error code.
  writeFileSync(
    join(project, "check.mjs"),
    [
      'import { XmarginClient, exchangePda, programError, errorCode, HealthEngine, EngineRefusal } from "@xmargin/app";',
      'import idl from "@xmargin/app/idl/xmargin.json" with { type: "json" };',
      "const client = new XmarginClient();",
      "const code = errorCode('ExchangeAlreadyInitialized');",
      // The engine loads from the installed package and runs the program's code: with no
      // accounts at all, Anchor's own account check refuses.
      "const engine = await HealthEngine.load();",
      "const refusal = await engine.refreshHealth(client.programId, new Uint8Array(40), []).catch((e) => e instanceof EngineRefusal ? e.errorName : String(e));",
      "console.log(JSON.stringify({",
      "  programId: client.programId.toBase58(),",
      "  idlAddress: idl.address,",
      "  exchange: exchangePda(client.programId).toBase58(),",
      "  error: programError(code)?.name,",
      "  engine: refusal,",
      "}));",
    ].join("\n"),
  );
  const out = JSON.parse(run("node", ["check.mjs"], project)) as Record<string, string>;
  const client = JSON.parse(readFileSync(join(ROOT, "app", "src", "idl", "xmargin.json"), "utf8")) as { address: string };
  assert.equal(out.programId, client.address);
  assert.equal(out.idlAddress, client.address);
  assert.equal(out.error, "ExchangeAlreadyInitialized");
  assert.equal(out.engine, "AccountNotEnoughKeys");
  assert.match(out.exchange ?? "", /^[1-9A-HJ-NP-Za-km-z]{32,44}$/);

  // TypeScript: the declarations type-check a consumer (strict, the libraries' declarations
  // checked too), and a misuse is a type error, so the types are real, not `any`.
  const tsconfig = {
    compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, types: ["node"] },
  };
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig));
  writeFileSync(
    join(project, "good.ts"),
    [
      'import { XmarginClient, pausedActions, type PortfolioHealth } from "@xmargin/app";',
      "const client = new XmarginClient();",
      "const id: string = client.programId.toBase58();",
      "const paused: string[] = pausedActions(3);",
      "export const shown = (h: PortfolioHealth) => [id, paused.join(','), h.initialHealth];",
    ].join("\n"),
  );
  run("node", [TSC, "-p", "tsconfig.json"], project);
  writeFileSync(join(project, "bad.ts"), 'import { XmarginClient } from "@xmargin/app";\nexport const n: number = new XmarginClient().programId;\n');
  const bad = spawnSync("node", [TSC, "-p", "tsconfig.json"], { cwd: project, encoding: "utf8" });
  assert.notEqual(bad.status, 0, "a misuse of the client's types compiled");
  assert.match(bad.stdout, /bad\.ts.*TS2322/);

  // The bins npm links from node_modules/.bin run their CLI.
  for (const [bin, command] of [["xmargin-governance", "propose"], ["xmargin-keeper", "once"], ["xmargin-liquidator", "open-portfolio"]]) {
    const r = spawnSync(join(project, "node_modules", ".bin", bin!), ["--help"], { cwd: project, encoding: "utf8" });
    assert.equal(r.status, 0, `${bin} --help: ${r.stderr}`);
    assert.ok(r.stdout.includes(command!), `${bin} --help lacks ${command}`);
  }
});
