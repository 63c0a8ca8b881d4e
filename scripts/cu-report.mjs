// Merges the per-test CU measurements (JSON lines) into target/cu-report.json: an array of
// {instruction, scenario, cu, ceiling}, one per measured instruction and scenario (the
// highest CU seen when a scenario ran more than once), sorted by instruction and scenario.
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/cu-report.mjs MEASUREMENTS.jsonl REPORT.json");
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
const report = [...rows.values()].sort(
  (a, b) => a.instruction.localeCompare(b.instruction) || a.scenario.localeCompare(b.scenario),
);
writeFileSync(output, JSON.stringify(report, null, 2) + "\n");
const width = Math.max(...report.map((r) => r.instruction.length));
for (const r of report) {
  console.log(`${r.instruction.padEnd(width)}  ${String(r.cu).padStart(7)} / ${String(r.ceiling).padStart(7)} CU  ${r.scenario}`);
}
console.log(`wrote ${output} (${report.length} measurements)`);
