// Write locks of the hot instructions and the throughput they allow (issue 16: measure scale,
// not only cost). Used by scripts/cu-report.mjs (the `write_locks` part of
// target/cu-report.json) and by tests/write_locks.test.ts (the regression guard below).
//
// Solana runs transactions in parallel unless they lock the same account, and all the
// transactions that write one account may use at most ACCOUNT_CU_LIMIT compute units per
// block. An instruction that writes a `venue` account (one for the whole venue) is therefore
// serialized venue-wide: however many markets there are, at most ACCOUNT_CU_LIMIT / CU of it
// fit in a block. One that writes only per-market and per-trader accounts scales with the
// number of markets, up to the block limit.
//
// Only the accounts the IDL declares are classified: remaining accounts (health accounts:
// markets and oracles, passed read-only) are not — a read lock still waits for a write lock
// of the same account, but it does not serialize readers among themselves.

/// Compute units all transactions writing one account may use per block.
export const ACCOUNT_CU_LIMIT = 12_000_000;
/// Compute units per block (at the time of writing).
export const BLOCK_CU_LIMIT = 48_000_000;
/// 400 ms slots.
export const BLOCKS_PER_SECOND = 2.5;
/// Market counts the venue-wide throughput is reported for.
export const MARKET_COUNTS = [1, 8, 32];

/// The instructions run at trading frequency (traders, keepers, liquidators). The IDL name.
export const HOT_INSTRUCTIONS = [
  "trade",
  "deposit",
  "withdraw",
  "liquidate_positions",
  "liquidate_collateral",
  "hedge_collateral",
  "settle_expired",
  "sweep_fees",
  "update_marks",
  "update_funding",
  "update_volatility",
  "record_settlement_price",
  "update_quote_peg",
  "refresh_health",
];
/// Hot instructions that may be absent from the IDL: `hedge_collateral` is today an argument
/// of `liquidate_positions` (a cash-and-carry unwound in one liquidation), not an instruction.
export const OPTIONAL_HOT_INSTRUCTIONS = ["hedge_collateral"];

/// Scenarios whose CU a hot instruction's throughput is computed from: the largest measured
/// CU among the scenarios that match (every scenario when an instruction has no entry). The
/// position-bound instructions are taken at their 32-position books, the largest the program
/// accepts.
export const CU_SCENARIOS = {
  trade: /32-position/,
  liquidate_positions: /32-position/,
};

/// Scope of the accounts whose address the IDL cannot derive (no `pda` in the IDL: the
/// program checks the address by a constraint, or derives it from the account's own data),
/// by account name. Accounts with IDL seeds are classified from the seeds (`classifyAccount`).
export const SCOPE_BY_NAME = {
  // `[MARKET_SEED, exchange, market.underlying]`: the seeds read the market's own data, which
  // the IDL cannot express. One per underlying.
  market: "market",
  // `address = registry.collaterals[0].vault`: the quote asset's vault, which the fee sweep,
  // collateral liquidations and bankruptcy resolutions move quote through. (Its seeds,
  // `[VAULT_SEED, exchange, quote_mint]`, show only in `initialize_exchange`.)
  quote_vault: "venue",
  // `address = exchange.quote_ledger`: the quote asset's own state (its shard of Σ positive
  // quote balances), written by quote deposits and withdrawals only among the hot paths.
  quote_ledger: "asset",
  // `address = exchange.insurance_vault`: the venue's single insurance fund.
  insurance_vault: "venue",
  // Checked against the registry's entry for `mint` (`listed_collateral`): one per
  // collateral asset. For the quote asset it is the same account as `quote_vault`, so quote
  // deposits and withdrawals also contend with trades there.
  vault: "asset",
  // A trader's portfolio (each role of the instructions that take two).
  portfolio: "portfolio",
  taker: "portfolio",
  maker: "portfolio",
  liquidator: "portfolio",
  target: "portfolio",
  // A trader's own token account (deposit source, withdrawal destination).
  source: "portfolio",
  destination: "portfolio",
};

/// Account paths a seed may reference that are one per venue: the exchange itself and the
/// quote mint it fixes.
const VENUE_SEED_ACCOUNTS = new Set(["exchange", "quote_mint"]);

/// Scope of an IDL instruction account: `venue` (one account for the whole venue), `market`
/// (one per underlying), `asset` (one per collateral asset), `portfolio` (one per trader) or
/// `other`.
///
/// From the PDA seeds when the IDL has them (an account derived under another program, e.g.
/// an associated token account, is not classified from its seeds), the most specific scope a
/// seed names winning:
/// - a seed from `owner` or a portfolio → `portfolio`;
/// - a seed from a mint (other than the quote mint) → `asset`;
/// - a seed from the market account or an underlying/market index argument → `market`;
/// - only constants, `exchange` and `quote_mint` → `venue`;
/// - anything else (an id argument, another account) → `other`.
/// Otherwise by name (`SCOPE_BY_NAME`); an unknown name is `other`.
export function classifyAccount(account) {
  const seeds = account.pda && !account.pda.program ? account.pda.seeds : undefined;
  if (seeds) {
    const refs = seeds.filter((s) => s.kind !== "const").map((s) => ({ kind: s.kind, root: s.path.split(".")[0], path: s.path }));
    const portfolioNames = new Set(["owner", ...Object.keys(SCOPE_BY_NAME).filter((n) => SCOPE_BY_NAME[n] === "portfolio")]);
    if (refs.some((r) => r.kind === "account" && portfolioNames.has(r.root))) return "portfolio";
    if (refs.some((r) => r.kind === "account" && /mint$/.test(r.root) && !VENUE_SEED_ACCOUNTS.has(r.root))) return "asset";
    if (
      refs.some(
        (r) => (r.kind === "account" && r.root === "market") || (r.kind === "arg" && /(underlying|market)/.test(r.path)),
      )
    ) {
      return "market";
    }
    if (refs.every((r) => r.kind === "account" && VENUE_SEED_ACCOUNTS.has(r.root))) return "venue";
    return "other";
  }
  return SCOPE_BY_NAME[account.name] ?? "other";
}

/// Venue-wide accounts each hot instruction writes TODAY — a known gap, not a design: every
/// transaction of these instructions takes the same write lock, so each is serialized across
/// the whole venue (at most ACCOUNT_CU_LIMIT / CU per block, whatever the number of markets).
/// tests/write_locks.test.ts fails on a venue-wide write missing here (a NEW global lock) and
/// on an entry no longer written (shrink this list as the gap closes). The goal is every
/// entry empty.
export const VENUE_WRITE_ALLOWLIST = {
  // Fees accrue in the market and Σ positive quote balances has a shard in each market
  // (`positions::PositiveQuote`): a trade writes the two portfolios and its market only.
  trade: [],
  // The deposit cap applies to the vault; a quote deposit or withdrawal also writes the
  // quote ledger (the quote asset's own state).
  deposit: [],
  withdraw: [],
  // As `trade`: the insurance share accrues in the market.
  liquidate_positions: [],
  // Its quote credits and the insurance share go to the quote ledger (the quote asset's own
  // state; the share is moved by `sweep_fees`).
  liquidate_collateral: [],
  // The quote payoffs' shard is the market's.
  settle_expired: [],
  // The crank that moves accrued fees and insurance shares (a market's, the quote ledger's):
  // the one writer of the two vaults for trades and liquidations, whenever a keeper sweeps.
  sweep_fees: ["quote_vault", "insurance_vault"],
  update_marks: [],
  update_funding: [],
  // The estimator lives in the underlying's market.
  update_volatility: [],
  record_settlement_price: [],
  // The quote's recorded USD price stays in the registry, which every health check reads
  // (docs/scaling.md: moving it would add an account, written by quote deposits,
  // to every health check); one write per staleness window.
  update_quote_peg: ["registry"],
  // A view: writes nothing.
  refresh_health: [],
};

/// An instruction's accounts with nested account groups (an Anchor composite such as
/// `QuoteVaults`, `{name, accounts}`) replaced by their members, in wire order.
export function flatAccounts(accounts) {
  return accounts.flatMap((a) => (Array.isArray(a.accounts) ? flatAccounts(a.accounts) : [a]));
}

/// The writable accounts of each hot instruction present in the IDL, classified, and the
/// venue-wide ones among them: `[{instruction, writable: [{name, scope}], venue_wide: [name]}]`
/// in HOT_INSTRUCTIONS order.
export function writeLocks(idl) {
  const out = [];
  for (const name of HOT_INSTRUCTIONS) {
    const ix = idl.instructions.find((i) => i.name === name);
    if (!ix) continue;
    const writable = flatAccounts(ix.accounts).filter((a) => a.writable).map((a) => ({ name: a.name, scope: classifyAccount(a) }));
    out.push({ instruction: name, writable, venue_wide: writable.filter((a) => a.scope === "venue").map((a) => a.name) });
  }
  return out;
}

/// The CU a hot instruction's throughput is computed from: the largest measured CU among its
/// CU_SCENARIOS scenarios, with that scenario; `{cu: null, scenario: null}` when none was
/// measured. `measurements`: `[{instruction, scenario, cu}]`.
export function throughputCu(instruction, measurements) {
  const filter = CU_SCENARIOS[instruction];
  let best = { cu: null, scenario: null };
  for (const m of measurements) {
    if (m.instruction !== instruction || (filter && !filter.test(m.scenario))) continue;
    if (best.cu === null || m.cu > best.cu) best = { cu: m.cu, scenario: m.scenario };
  }
  return best;
}

/// Transactions per block and per second an instruction of `cu` compute units allows, given
/// the scopes of the accounts it writes:
/// - `per_market`: floor(ACCOUNT_CU_LIMIT / cu) if it writes a `market` account (all its
///   transactions on one market share that lock), else null (no per-market lock);
/// - `venue_wide[N]` for N markets: floor(ACCOUNT_CU_LIMIT / cu) if it writes a `venue`
///   account, whatever N; else N × per_market if it writes a market account; else unbounded
///   by a shared lock; in every case at most floor(BLOCK_CU_LIMIT / cu).
/// `asset` and `portfolio` locks are not counted: they spread over assets and traders (a
/// single hot asset vault would bound that asset's flows at floor(ACCOUNT_CU_LIMIT / cu)).
/// Per second: per block × BLOCKS_PER_SECOND. All null when `cu` is null.
export function throughput(cu, scopes, marketCounts = MARKET_COUNTS) {
  const nulls = Object.fromEntries(marketCounts.map((n) => [String(n), null]));
  if (cu === null || cu === undefined) {
    return { per_block: { per_market: null, venue_wide: { ...nulls } }, per_second: { per_market: null, venue_wide: { ...nulls } } };
  }
  if (!(cu > 0)) throw new Error(`throughput: CU must be positive, got ${cu}`);
  const perAccount = Math.floor(ACCOUNT_CU_LIMIT / cu);
  const block = Math.floor(BLOCK_CU_LIMIT / cu);
  const writesVenue = scopes.includes("venue");
  const perMarket = scopes.includes("market") ? perAccount : null;
  const venueWide = {};
  for (const n of marketCounts) {
    venueWide[String(n)] = writesVenue ? Math.min(perAccount, block) : perMarket !== null ? Math.min(n * perMarket, block) : block;
  }
  const perSecond = (x) => (x === null ? null : x * BLOCKS_PER_SECOND);
  return {
    per_block: { per_market: perMarket, venue_wide: venueWide },
    per_second: {
      per_market: perSecond(perMarket),
      venue_wide: Object.fromEntries(Object.entries(venueWide).map(([n, x]) => [n, perSecond(x)])),
    },
  };
}

/// The `write_locks` rows of target/cu-report.json: `writeLocks(idl)` with each
/// instruction's CU (`throughputCu`) and `throughput`.
export function writeLockReport(idl, measurements) {
  return writeLocks(idl).map((w) => {
    const { cu, scenario } = throughputCu(w.instruction, measurements);
    return { ...w, cu, scenario, ...throughput(cu, w.writable.map((a) => a.scope)) };
  });
}
