// Merges the per-test CU measurements (JSON lines) into target/cu-report.json:
// {
//   "measurements": [{instruction, scenario, cu, ceiling}], one per measured instruction and
//     scenario (the highest CU seen when a scenario ran more than once), sorted by
//     instruction and scenario;
//   "write_locks": [{instruction, writable: [{name, scope}], venue_wide: [name], cu, scenario,
//     per_block: {per_market, venue_wide: {"1", "8", "32"}}, per_second: {...}}], one per hot
//     instruction of the IDL: the accounts it writes, their scope, and the transactions per
//     block / second its write locks allow (scripts/write-locks.mjs; cu null when the
//     instruction was not measured)
// }
// and prints both as tables. The IDL: target/idl/xmargin.json unless given.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import {
  ACCOUNT_CU_LIMIT,
  BLOCK_CU_LIMIT,
  BLOCKS_PER_SECOND,
  MARKET_COUNTS,
  writeLockReport,
} from "./write-locks.mjs";

const [input, output, idlPath = fileURLToPath(new URL("../target/idl/xmargin.json", import.meta.url))] =
  process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/cu-report.mjs MEASUREMENTS.jsonl REPORT.json [IDL.json]");
  process.exit(2);
}
const rows = new Map();
for (const line of readFileSync(input, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const m = JSON.parse(line);
  const key = `${m.instruction}\u0000${m.scenario}`;
  const prev = rows.get(key);
  if (!prev || m.cu > prev.cu) rows.set(key, m);
}
const measurements = [...rows.values()].sort(
  (a, b) => a.instruction.localeCompare(b.instruction) || a.scenario.localeCompare(b.scenario),
);
const idl = JSON.parse(readFileSync(idlPath, "utf8"));
const writeLocks = writeLockReport(idl, measurements);
writeFileSync(output, JSON.stringify({ measurements, write_locks: writeLocks }, null, 2) + "\n");

const width = Math.max(...measurements.map((r) => r.instruction.length));
for (const r of measurements) {
  console.log(`${r.instruction.padEnd(width)}  ${String(r.cu).padStart(7)} / ${String(r.ceiling).padStart(7)} CU  ${r.scenario}`);
}

// Write locks: transactions per block (per second) by the busiest write lock.
console.log();
console.log(
  `write locks: ${ACCOUNT_CU_LIMIT / 1e6}M CU per writable account, ${BLOCK_CU_LIMIT / 1e6}M per block, ` +
    `${BLOCKS_PER_SECOND} blocks/s; tx per block (per second)`,
);
const fmt = (perBlock, perSecond) => (perBlock === null ? "-" : `${perBlock} (${perSecond})`);
const table = writeLocks.map((w) => [
  w.instruction,
  w.cu === null ? "not measured" : String(w.cu),
  fmt(w.per_block.per_market, w.per_second.per_market),
  ...MARKET_COUNTS.map((n) => fmt(w.per_block.venue_wide[String(n)], w.per_second.venue_wide[String(n)])),
  w.venue_wide.join(", ") || "-",
  w.writable.filter((a) => a.scope !== "venue").map((a) => `${a.name}:${a.scope}`).join(", ") || "-",
]);
const header = ["instruction", "CU", "per market", ...MARKET_COUNTS.map((n) => `venue, ${n} mkt`), "venue-wide writes", "other writes"];
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const rightAligned = new Set([1, 2, 3, 4, 5]);
const line = (r) =>
  r.map((c, i) => (i === r.length - 1 ? c : rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
console.log(line(header));
for (const r of table) console.log(line(r));
console.log(`wrote ${output} (${measurements.length} measurements, ${writeLocks.length} hot instructions)`);
