// Shared fixtures of the TypeScript suites: oracle configurations and an underlying as
// governance would list it (mirrors crates/sandbox fixtures).
import { PublicKey } from "@solana/web3.js";
import BN from "bn.js";

import assert from "node:assert/strict";

import {
  OracleKind,
  sponsoredFeedAccount,
  type HaircutArg,
  type InitializeExchangeParams,
  type OracleConfigArg,
  type UnderlyingConfigArg,
  type XmarginClient,
} from "../app/src/index.js";
import type { Keypair } from "@solana/web3.js";

import type { Sandbox } from "./harness.js";

/** SPL Token's program id. */
export const SPL_TOKEN = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

/** An oracle configuration; a pull oracle reads its feed's sponsored account only. */
export function oracleConfig(source: Buffer, kind: number, legacyProgram = PublicKey.default): OracleConfigArg {
  return {
    source: [...source],
    legacyProgram,
    feedAccount: kind === OracleKind.PythPull ? sponsoredFeedAccount(source) : PublicKey.default,
    kind,
    padding: [0, 0, 0],
    maxStalenessSecs: 60,
    maxStalenessSlots: 0,
    maxConfBps: 200,
  };
}

/** An underlying as governance would list it (mirrors crates/sandbox fixtures::underlying). */
export function adaptiveUnderlying(feed: Buffer, adaptive = 1): UnderlyingConfigArg {
  const zeros = (n: number) => new Array<number>(n).fill(0);
  return {
    oracle: oracleConfig(feed, OracleKind.PythPull),
    maxPriceShockBps: 1_500,
    volShockUpBps: 1_500,
    volShockDownBps: 1_000,
    shortOptionChargeBps: 100,
    priceSteps: 5,
    // The reference tail: ±3 × P at 35%, −3 × P with vol +25 points at 35%, +3 × P with vol
    // +25 points at 20%; vol shocks scaled by (30 / max(days, 1))^0.3.
    tailRows: 3,
    tailBothWaysMask: 0b001,
    adaptive,
    impliedVolBps: 6_000,
    minImpliedVolBps: 1_000,
    maxImpliedVolBps: 30_000,
    volKBps: 30_000,
    volFloorBps: 500,
    volCapBps: 6_000,
    volMaxDecayBps: 1_000,
    volStressedShockBps: 0,
    volStressedWeightBps: 0,
    volScalingReferenceDays: 30,
    volScalingFloorHours: 24,
    volHalfLifeShortSecs: 12 * 3600,
    volHalfLifeLongSecs: 7 * 86_400,
    volHorizonSecs: 86_400,
    volMinIntervalSecs: 3600,
    retiredEstimator: new Array(72).fill(0),
    tail: [
      { priceMultipleHundredths: 300, volMoveBps: 0, weightBps: 3_500 },
      { priceMultipleHundredths: -300, volMoveBps: 2_500, weightBps: 3_500 },
      { priceMultipleHundredths: 300, volMoveBps: 2_500, weightBps: 2_000 },
      { priceMultipleHundredths: 0, volMoveBps: 0, weightBps: 0 },
    ],
    volScalingExponentBps: 3_000,
    reserved: zeros(6),
  };
}

/** A haircut schedule without tiers: asset weights in bps, liability weights 120% / 110%. */
export function flatHaircut(initial: number, maintenance: number): HaircutArg {
  const tier = { above: new BN(0), initialWeightBps: 0, maintenanceWeightBps: 0, padding: [0, 0, 0, 0] };
  return {
    initialAssetWeightBps: initial,
    maintenanceAssetWeightBps: maintenance,
    initialLiabilityWeightBps: 12_000,
    maintenanceLiabilityWeightBps: 11_000,
    tierCount: 0,
    padding: [0, 0, 0, 0, 0, 0, 0],
    tiers: [tier, tier, tier, tier],
  };
}

/** A fresh exchange (6-decimal USDC quote, one-day timelock, 25% weight step) with its
 * governance and guardian keys, and readers of its exchange and registry accounts. */
/** `initialize_exchange`'s parameters as the suites create every exchange: a 10^15 native
 * quote cap and a 25% weight step per change. */
export function exchangeParams(
  p: { payer: PublicKey; upgradeAuthority: PublicKey; quoteMint: PublicKey; governance: Keypair; guardian: Keypair },
  timelockDelaySecs: number,
): InitializeExchangeParams {
  return {
    payer: p.payer,
    upgradeAuthority: p.upgradeAuthority,
    quoteMint: p.quoteMint,
    governance: p.governance.publicKey,
    guardian: p.guardian.publicKey,
    timelockDelaySecs,
    quoteDepositCap: 10n ** 15n,
    maxWeightStepBps: 2_500,
  };
}

export async function governedExchange(sb: Sandbox, client: XmarginClient, timelockDelaySecs: number) {
  const governance = sb.fundedKeypair();
  const guardian = sb.fundedKeypair();
  const usdc = sb.createMint(6);
  const init = await client.initializeExchangeIx(
    exchangeParams({ payer: sb.payer.publicKey, upgradeAuthority: sb.upgradeAuthority.publicKey, quoteMint: usdc, governance, guardian }, timelockDelaySecs),
  );
  sb.send([init], [sb.upgradeAuthority]);
  const exchange = async () => {
    const ex = await client.fetchExchange((k) => sb.accountData(k));
    assert.ok(ex);
    return ex;
  };
  const registry = async () => {
    const data = await sb.accountData(client.registry);
    assert.ok(data);
    return client.decodeRegistry(data);
  };
  return { governance, guardian, usdc, exchange, registry };
}

/** `create_market` parameters of the suites' markets (5% perp band, 5 / 2 bps fees, hourly
 * funding capped at 7 bps, marks within 3% and an hour). */
export function marketParams(lotDecimals: number, tick: bigint) {
  return {
    underlying: 0,
    lotDecimals,
    tick,
    minSizeLots: 1n,
    perpOiCap: 10n ** 9n,
    perpBandBps: 500,
    optionBandBps: 200,
    takerFeeBps: 5,
    makerFeeBps: 2,
    maxFundingRateBps: 7,
    fundingIntervalSecs: 3_600,
    expiryTimeOfDaySecs: 8 * 3600,
    settlementWindowSecs: 3_600,
    maxExpiryDays: 365,
    maxMarkDriftBps: 300,
    maxMarkAgeSecs: 3_600,
  };
}

/** Lists a wrapped BTC (8 decimals, SPL Token) as the next collateral with a pull oracle on
 * `feed`, no initial weight (as every listing starts) and `maintenanceBps`; returns its mint. */
export async function listWrappedBtc(
  sb: Sandbox,
  client: XmarginClient,
  governance: Keypair,
  feed: Buffer,
  maintenanceBps: number,
): Promise<PublicKey> {
  const mint = sb.createMintWith(8, SPL_TOKEN);
  const list = await client.listCollateralIx({
    payer: sb.payer.publicKey,
    governance: governance.publicKey,
    mint,
    tokenProgram: SPL_TOKEN,
    oracle: oracleConfig(feed, OracleKind.PythPull),
    haircut: flatHaircut(0, maintenanceBps),
    depositCap: 10n ** 15n,
  });
  sb.send([list], [governance]);
  return mint;
}
