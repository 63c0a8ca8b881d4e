// The TS tests' venue: an exchange with SOL listed (static shocks) and its market, a 30-day
// at-the-money call, traders with USDC, and the health-account and trade builders.
import assert from "node:assert/strict";

import { Keypair, PublicKey } from "@solana/web3.js";

import {
  InstrumentKind,
  XmarginClient,
  createMarketIx,
  decodePositions,
  listOptionSeriesIx,
  sponsoredFeedAccount,
  underlyingAccounts,
  vaultPda,
  type TradeParams,
} from "../app/src/index.js";
import { adaptiveUnderlying, governedExchange, marketParams } from "./fixtures.js";
import { Sandbox } from "./harness.js";

export const client = new XmarginClient();
export const SPL = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
export const DAY = 86_400;
/** SOL at 150 USDC: oracle mantissas at exponent −6 are quote native units per SOL. */
export const SOL = 150_000_000n;

export interface Trader {
  owner: Keypair;
  portfolio: PublicKey;
}

export async function setup() {
  const sb = new Sandbox();
  const { governance, guardian, usdc, exchange, registry } = await governedExchange(sb, client, DAY);
  // SOL listed as an underlying through the timelock (static shocks), then its market.
  const feed = Buffer.alloc(32, 0x61);
  const oracle = sponsoredFeedAccount(feed);
  const id = (await exchange()).nextRiskChangeId;
  const change = { listUnderlying: { config: adaptiveUnderlying(feed, 0) } };
  sb.send([await client.proposeRiskChangeIx({ payer: sb.payer.publicKey, governance: governance.publicKey, id, change })], [governance]);
  sb.warp(DAY);
  sb.send([await client.executeRiskChangeIx(id, sb.payer.publicKey)]);
  const publish = (price: bigint) => sb.putPullOracle(oracle, feed, price, price / 10_000n, -6);
  publish(SOL);
  const market = await createMarketIx(client, sb.payer.publicKey, governance.publicKey, marketParams(2, 10_000n));
  sb.send([market], [governance]);
  // A 30-day at-the-money call, on the 08:00 UTC grid.
  const t = sb.now().unixTimestamp + BigInt(30 * DAY);
  let expiry = (t / BigInt(DAY)) * BigInt(DAY) + 8n * 3600n;
  if (expiry < t) expiry += BigInt(DAY);
  const list = await listOptionSeriesIx(client, governance.publicKey, 0, { kind: InstrumentKind.Call, strike: SOL, expiry, oiCap: 10n ** 9n });
  sb.send([list], [governance]);
  const trader = async (usdcAmount = 10_000_000_000n): Promise<Trader> => {
    const owner = sb.fundedKeypair();
    sb.send([await client.openPortfolioIx(sb.payer.publicKey, owner.publicKey)], [owner]);
    const portfolio = client.portfolio(owner.publicKey);
    const source = sb.createTokenAccount(usdc, owner.publicKey, usdcAmount);
    const deposit = await client.depositIx({ depositor: owner.publicKey, portfolio, mint: usdc, source, tokenProgram: SPL, amount: usdcAmount, quote: true });
    sb.send([deposit], [owner]);
    return { owner, portfolio };
  };
  return { sb, governance, guardian, usdc, exchange, registry, oracle, publish, trader, a: await trader(), b: await trader() };
}

export type Setup = Awaited<ReturnType<typeof setup>>;

export async function positions(s: Setup, t: Trader) {
  const data = await s.sb.accountData(t.portfolio);
  assert.ok(data);
  return decodePositions(client, data);
}

/** Health accounts of a portfolio (it holds only the quote asset: no collateral oracles). */
export async function health(s: Setup, t: Trader, exclude?: number): Promise<PublicKey[]> {
  return underlyingAccounts(client, await positions(s, t), () => s.oracle, exclude);
}

export async function trade(s: Setup, instrument: number, sizeLots: bigint, price: bigint, taker = s.a, maker = s.b): Promise<TradeParams> {
  return {
    takerSigner: taker.owner.publicKey,
    makerSigner: maker.owner.publicKey,
    taker: taker.portfolio,
    maker: maker.portfolio,
    underlying: 0,
    instrument,
    sizeLots,
    price,
    oracle: s.oracle,
    takerHealth: await health(s, taker, 0),
    makerHealth: await health(s, maker, 0),
  };
}

