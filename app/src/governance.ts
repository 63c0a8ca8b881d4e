// Governance helpers: a collateral change planned from the registry with its edits, and
// human-readable diffs of collateral, offset-group and margin-scale changes marking which
// parts loosen risk. The command line is bin/governance.ts (every change kind, generic edits
// by field path: proposals.ts).
import BN from "bn.js";

import {
  LINK_RATIO_ONE,
  effectiveInitialScaleBps,
  linkTightens,
  offsetGroupMembers,
  riskParamsOf,
  type CollateralLinkArg,
  type CollateralRiskParamsArg,
  type MarginScaleParamsArg,
  type OffsetGroupConfigArg,
  type RegistryState,
} from "./state.js";

const pct = (bps: number): string => `${(bps / 100).toFixed(2)}%`;

export interface CollateralEdits {
  initialWeightBps?: number;
  maintenanceWeightBps?: number;
  depositCap?: bigint;
  reduceOnly?: number;
  /** The new link (`unlinked()` removes it). */
  link?: CollateralLinkArg;
}

/** The current parameters of collateral `index` with `edits` applied. */
export function planCollateralChange(
  registry: RegistryState,
  index: number,
  edits: CollateralEdits,
): { old: CollateralRiskParamsArg; next: CollateralRiskParamsArg } {
  const c = registry.collaterals[index];
  if (!c) throw new Error(`collateral ${index} is not listed (${registry.collaterals.length} are)`);
  const old = riskParamsOf(c);
  // Field-by-field copies: structuredClone would drop the PublicKey / BN prototypes.
  const next: CollateralRiskParamsArg = {
    ...old,
    oracle: { ...old.oracle },
    haircut: { ...old.haircut, tiers: old.haircut.tiers.map((t) => ({ ...t })) },
  };
  if (edits.initialWeightBps !== undefined) next.haircut.initialAssetWeightBps = edits.initialWeightBps;
  if (edits.maintenanceWeightBps !== undefined) next.haircut.maintenanceAssetWeightBps = edits.maintenanceWeightBps;
  if (edits.depositCap !== undefined) next.depositCap = new BN(edits.depositCap.toString());
  if (edits.reduceOnly !== undefined) next.reduceOnly = edits.reduceOnly;
  next.link = edits.link ?? { ...old.link };
  return { old, next };
}

/** A link in words: "none", or "underlying U, R units per token, basis I% / M%". */
export function describeLink(l: CollateralLinkArg): string {
  if (l.active !== 1) return "none";
  const ratio = (BigInt(l.ratioE9.toString()) * 1_000_000n) / LINK_RATIO_ONE;
  const units = `${ratio / 1_000_000n}.${(ratio % 1_000_000n).toString().padStart(6, "0")}`;
  return `underlying ${l.underlying}, ${units} units per token, basis ${pct(l.basisInitialBps)} / ${pct(l.basisMaintenanceBps)}`;
}

const sameLink = (a: CollateralLinkArg, b: CollateralLinkArg): boolean =>
  a.active === b.active &&
  a.underlying === b.underlying &&
  a.basisInitialBps === b.basisInitialBps &&
  a.basisMaintenanceBps === b.basisMaintenanceBps &&
  a.ratioE9.toString() === b.ratioE9.toString();

/** One line per changed parameter, marked LOOSENS where the change adds risk. */
export function diffCollateralParams(old: CollateralRiskParamsArg, next: CollateralRiskParamsArg): string[] {
  const lines: string[] = [];
  const weight = (label: string, a: number, b: number, higherIsLooser: boolean): void => {
    if (a === b) return;
    const loosens = higherIsLooser ? b > a : b < a;
    lines.push(`${label}: ${pct(a)} -> ${pct(b)}${loosens ? "   LOOSENS (timelock)" : ""}`);
  };
  const h0 = old.haircut;
  const h1 = next.haircut;
  weight("initial asset weight", h0.initialAssetWeightBps, h1.initialAssetWeightBps, true);
  weight("maintenance asset weight", h0.maintenanceAssetWeightBps, h1.maintenanceAssetWeightBps, true);
  weight("initial liability weight", h0.initialLiabilityWeightBps, h1.initialLiabilityWeightBps, false);
  weight("maintenance liability weight", h0.maintenanceLiabilityWeightBps, h1.maintenanceLiabilityWeightBps, false);
  for (let i = 0; i < Math.max(h0.tierCount, h1.tierCount); i++) {
    const a = h0.tiers[i];
    const b = h1.tiers[i];
    if (!a || !b || i >= h0.tierCount || i >= h1.tierCount) {
      lines.push(`tier ${i}: ${i < h0.tierCount ? "removed   LOOSENS (timelock)" : "added"}`);
      continue;
    }
    weight(`tier ${i} initial weight`, a.initialWeightBps, b.initialWeightBps, true);
    weight(`tier ${i} maintenance weight`, a.maintenanceWeightBps, b.maintenanceWeightBps, true);
  }
  if (!old.depositCap.eq(next.depositCap)) {
    const loosens = next.depositCap.gt(old.depositCap);
    lines.push(`deposit cap: ${old.depositCap.toString()} -> ${next.depositCap.toString()}${loosens ? "   LOOSENS (timelock)" : ""}`);
  }
  if (old.reduceOnly !== next.reduceOnly) {
    lines.push(`reduce-only: ${old.reduceOnly ? "on" : "off"} -> ${next.reduceOnly ? "on" : "off"}${next.reduceOnly ? "" : "   LOOSENS (timelock)"}`);
  }
  if (!sameLink(old.link, next.link)) {
    const loosens = !linkTightens(next.link, old.link);
    lines.push(`link: ${describeLink(old.link)} -> ${describeLink(next.link)}${loosens ? "   LOOSENS (timelock)" : ""}`);
  }
  return lines;
}

/** An offset group in words: "none", or "underlyings 0+1, credit 25.00%". */
export function describeOffsetGroup(g: OffsetGroupConfigArg): string {
  if (g.memberMask === 0) return "none";
  return `underlyings ${offsetGroupMembers(g).join("+")}, credit ${pct(g.creditBps)}`;
}

/** One line for a change of offset group `index`, marked LOOSENS unless only the credit falls
 * or the group is dissolved (what the guardian may do at once); empty when nothing changes. */
export function diffOffsetGroup(index: number, old: OffsetGroupConfigArg, next: OffsetGroupConfigArg): string[] {
  if (old.memberMask === next.memberMask && old.creditBps === next.creditBps) return [];
  const dissolved = next.memberMask === 0;
  const loosens = !dissolved && (next.memberMask !== old.memberMask || next.creditBps > old.creditBps);
  return [`offset group ${index}: ${describeOffsetGroup(old)} -> ${describeOffsetGroup(next)}${loosens ? "   LOOSENS (timelock)" : ""}`];
}

/** One line for a change of the initial-margin scale ("initial scale: 1.50x -> 2.00x"), marked
 * LOOSENS when it falls (the timelock's step bounds each fall; a raise is what the guardian may
 * do at once, and refuses the marks computed before it until they are recomputed); empty when
 * nothing changes. */
export function diffMarginScale(old: MarginScaleParamsArg, next: MarginScaleParamsArg): string[] {
  const a = effectiveInitialScaleBps(old);
  const b = effectiveInitialScaleBps(next);
  if (a === b) return [];
  const x = (bps: number): string => `${(bps / 10_000).toFixed(2)}x`;
  const note = b < a ? "   LOOSENS (timelock)" : "   (option marks are refused until re-marked)";
  return [`initial scale: ${x(a)} -> ${x(b)} of the maintenance grid${note}`];
}
