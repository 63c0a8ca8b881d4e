// The program's own health computation in WebAssembly (app/src/engine.ts, crates/wasm):
// `computeHealth` on the accounts the chain holds equals a simulated `refresh_health` of the
// compiled .so bit for bit, on random books (perps, calls, a wBTC balance behind its own
// oracle, prices, clock and stale marks moving between steps), and refuses with the
// program's own error where the program refuses.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ComputeBudgetProgram, PublicKey, type TransactionInstruction } from "@solana/web3.js";

import {
  EngineRefusal,
  HealthEngine,
  PERP_INSTRUMENT,
  computeHealth,
  decodePositions,
  decodeHealthView,
  marginBudgetIxs,
  portfolioHealthAccounts,
  seriesMask,
  sponsoredFeedAccount,
  tradeIx,
  updateFundingIx,
  updateMarksIx,
  type PortfolioHealth,
} from "../app/src/index.js";
import { listWrappedBtc } from "./fixtures.js";
import { svmChain, type Sandbox } from "./harness.js";
import { SOL, SPL, client, setup, trade, type Setup, type Trader } from "./venue.js";

const WBTC = 60_000_000_000n;
const ONE_WBTC = 100_000_000n;

/** A small deterministic generator (mulberry32): the same books on every run; the seed can
 * be changed with XMARGIN_ENGINE_SEED to explore others. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), pick: <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]! };
}

const BUDGET = [ComputeBudgetProgram.setComputeUnitLimit({ units: 1_400_000 }), ComputeBudgetProgram.requestHeapFrame({ bytes: 256 * 1024 })];

/** What the chain says: a simulated `refresh_health`'s numbers or its error's name. */
function onChain(sb: Sandbox, ixs: TransactionInstruction[]): PortfolioHealth | string {
  const r = sb.simulateUnsigned([...BUDGET, ...ixs]);
  return r.ok ? decodeHealthView(client, r.returnData) : (r.error ?? "failed");
}

/** What the engine says, in the same terms. */
async function locally(engine: HealthEngine, sb: Sandbox, portfolio: PublicKey, accounts: PublicKey[]): Promise<PortfolioHealth | string> {
  try {
    return await computeHealth(engine, client, svmChain(sb, []).accounts, portfolio, accounts);
  } catch (e) {
    if (e instanceof EngineRefusal) return e.errorName;
    throw e;
  }
}

const exact = (h: PortfolioHealth | string) =>
  typeof h === "string" ? h : Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.bits.toString()]));

async function venueWithWbtc() {
  const s = await setup();
  const wbtcFeed = Buffer.alloc(32, 0x63);
  const wbtcOracle = sponsoredFeedAccount(wbtcFeed);
  const wbtc = await listWrappedBtc(s.sb, client, s.governance, wbtcFeed, 9_000);
  const publishWbtc = (price: bigint) => s.sb.putPullOracle(wbtcOracle, wbtcFeed, price, price / 10_000n, -6);
  publishWbtc(WBTC);
  return { ...s, wbtc, wbtcFeed, publishWbtc };
}

async function healthAccounts(s: Setup, t: Trader, exclude?: number): Promise<PublicKey[]> {
  const data = await s.sb.accountData(t.portfolio);
  assert.ok(data);
  const p = { state: client.decodePortfolio(data), positions: decodePositions(client, data) };
  const overrides = { underlyingOracle: () => s.oracle, pullAccount: (hex: string) => sponsoredFeedAccount(Buffer.from(hex, "hex")) };
  return portfolioHealthAccounts(client, p, await s.registry(), overrides, exclude);
}

test("computeHealth (WASM) equals refresh_health on the .so bit for bit, on random books", async () => {
  const engine = await HealthEngine.load();
  const seed = Number(process.env.XMARGIN_ENGINE_SEED ?? 20261203);
  const r = rng(seed);
  const s = await venueWithWbtc();
  const marks = async () => s.sb.send([await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle)]);
  await marks();
  const traders: Trader[] = [s.a, s.b];
  for (let i = 0; i < 3; i++) traders.push(await s.trader(BigInt(r.int(300, 20_000)) * 1_000_000n));
  for (const t of traders.slice(2)) {
    const amount = (ONE_WBTC * BigInt(r.int(1, 200))) / 100n;
    const source = s.sb.createTokenAccount(s.wbtc, t.owner.publicKey, amount);
    s.sb.send([await client.depositIx({ depositor: t.owner.publicKey, portfolio: t.portfolio, mint: s.wbtc, source, tokenProgram: SPL, amount, quote: false })], [t.owner]);
  }

  let spot = SOL;
  let compared = 0;
  const refusals = new Map<string, number>();
  let trades = 0;
  for (let step = 0; step < 24; step++) {
    // A random fill between two of the traders: the perp in the band around spot, or the call
    // near its value (refused fills — margin, band — leave the books as they were).
    const [taker, maker] = [r.pick(traders), r.pick(traders)];
    if (taker !== maker) {
      const perp = r.next() < 0.6;
      const lots = BigInt(r.int(1, 400)) * (r.next() < 0.5 ? -1n : 1n);
      const price = perp ? ((spot * BigInt(r.int(9_900, 10_100))) / 10_000n / 10_000n) * 10_000n : BigInt(r.int(800, 1_300)) * 10_000n;
      const params = {
        ...(await trade(s, perp ? PERP_INSTRUMENT : 0, lots, price, taker, maker)),
        takerHealth: await healthAccounts(s, taker, 0),
        makerHealth: await healthAccounts(s, maker, 0),
      };
      try {
        s.sb.send([...marginBudgetIxs(), await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle), await tradeIx(client, params)], [taker.owner, maker.owner]);
        trades++;
      } catch {
        // refused (margin, band): the books stay as they were
      }
    }
    // The world moves: time (sometimes past the marks' age limit or the wBTC feed's
    // staleness), SOL's price, funding.
    const roll = r.next();
    if (roll < 0.3) {
      s.sb.warp(r.int(1, 7_200));
      spot = (spot * BigInt(r.int(8_500, 11_500))) / 10_000n;
      s.publish(spot);
      if (r.next() < 0.7) s.publishWbtc((WBTC * BigInt(r.int(8_000, 12_000))) / 10_000n);
      if (r.next() < 0.5) {
        const funding = s.sb.simulateUnsigned([await updateFundingIx(client, 0, s.oracle)]);
        if (funding.ok) s.sb.send([await updateFundingIx(client, 0, s.oracle)]);
        else assert.equal(funding.error, "FundingTooSoon");
      }
      if (r.next() < 0.6) await marks();
    }
    for (const t of traders) {
      const accounts = await healthAccounts(s, t);
      const chain = onChain(s.sb, [await client.refreshHealthIx(t.portfolio, accounts)]);
      const local = await locally(engine, s.sb, t.portfolio, accounts);
      assert.deepEqual(exact(local), exact(chain), `step ${step} (seed ${seed}), portfolio ${t.portfolio.toBase58()}`);
      compared++;
      if (typeof chain === "string") refusals.set(chain, (refusals.get(chain) ?? 0) + 1);
    }
  }
  assert.ok(trades >= 6, `only ${trades} fills landed`);
  const refused = [...refusals.values()].reduce((a, b) => a + b, 0);
  assert.ok(compared - refused >= 60, `${compared - refused} numeric comparisons`);
  const names = [...refusals].map(([n, c]) => `${n} ×${c}`).join(", ");
  console.log(`engine: ${compared} comparisons, ${refused} of them refusals with the same error both sides (${names}); ${trades} fills; seed ${seed}`);
});

test("the engine refuses as the program does: missing market, wrong program, stale marks, malformed accounts", async () => {
  const engine = await HealthEngine.load();
  const s = await venueWithWbtc();
  s.sb.send([await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle)]);
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, 0, 100n, 10_300_000n))], [s.a.owner, s.b.owner]);
  const accounts = await healthAccounts(s, s.a);
  const read = svmChain(s.sb, []).accounts;
  const both = async (list: PublicKey[]) => [
    await locally(engine, s.sb, s.a.portfolio, list),
    onChain(s.sb, [await client.refreshHealthIx(s.a.portfolio, list)]),
  ];

  assert.deepEqual(await both(accounts.slice(0, 1)), ["MarketAccountsMismatch", "MarketAccountsMismatch"]);
  assert.deepEqual(await both([...accounts, s.oracle]), ["OracleAccountsMismatch", "OracleAccountsMismatch"]);
  // The oracle where the market belongs: Anchor's owner check, by the same name both sides.
  const swapped = await both([accounts[1]!, accounts[0]!]);
  assert.equal(swapped[0], swapped[1]);
  assert.equal(swapped[0], "AccountOwnedByWrongProgram");

  // An hour later, unmarked: the program's reason, then the numbers once marks are cranked.
  s.sb.warp(3_601);
  s.publish(SOL);
  assert.deepEqual(await both(accounts), ["MarksTooOld", "MarksTooOld"]);
  s.sb.send([await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle)]);
  const [local, chain] = await both(accounts);
  assert.equal(typeof local, "object");
  assert.deepEqual(exact(local!), exact(chain!));

  // Another program's id: this build's engine is xmargin's only.
  const clock = (await read([new PublicKey("SysvarC1ock11111111111111111111111111111111")]))[0]!.data;
  const raw = (await read([client.exchange, client.registry, s.a.portfolio, ...accounts])).map((a) => a!);
  await assert.rejects(engine.refreshHealth(PublicKey.unique(), clock, raw), (e: unknown) => e instanceof EngineRefusal && e.errorName === "DeclaredProgramIdMismatch");
  // A clock that is not one, and a missing account: the caller's mistakes, said as such.
  await assert.rejects(engine.refreshHealth(client.programId, clock.subarray(0, 8), raw), /Clock sysvar has 8 bytes/);
  await assert.rejects(computeHealth(engine, client, read, s.a.portfolio, [...accounts.slice(0, 1), PublicKey.unique()]), /does not exist/);
  // And after all of that the instance still computes.
  assert.deepEqual(exact(await locally(engine, s.sb, s.a.portfolio, accounts)), exact(chain!));
});

test("the engine costs about a millisecond per portfolio", async () => {
  const engine = await HealthEngine.load();
  const s = await setup();
  s.sb.send([await updateMarksIx(client, 0, seriesMask(0, 1), s.oracle)]);
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, 0, 100n, 10_300_000n))], [s.a.owner, s.b.owner]);
  s.sb.send([...marginBudgetIxs(), await tradeIx(client, await trade(s, PERP_INSTRUMENT, -50n, SOL))], [s.a.owner, s.b.owner]);
  const accounts = await healthAccounts(s, s.a);
  const read = svmChain(s.sb, []).accounts;
  const raw = (await read([new PublicKey("SysvarC1ock11111111111111111111111111111111"), client.exchange, client.registry, s.a.portfolio, ...accounts])).map((a) => a!);
  const [clock, ...rest] = raw;
  const runs = 200;
  const start = performance.now();
  for (let i = 0; i < runs; i++) await engine.refreshHealth(client.programId, clock!.data, rest);
  const perCall = (performance.now() - start) / runs;
  console.log(`engine: ${perCall.toFixed(3)} ms per refresh_health (2 positions, ${runs} runs)`);
  // Generous bound for a loaded 2-core CI machine: the point is "local, not an RPC round trip".
  assert.ok(perCall < 20, `${perCall} ms per call`);
});
