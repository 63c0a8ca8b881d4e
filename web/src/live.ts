// A live portfolio from an RPC node: its accounts decoded with the client's decoders, and its
// health computed by the program's own `refresh_health` in WebAssembly on the accounts read
// (`computeHealth`: bit for bit what the chain would return now). Loaded on demand: it brings
// the Solana client libraries, which a book alone does not need.
import { Connection, PublicKey } from "@solana/web3.js";

import { XmarginClient } from "../../app/src/client.js";
import { computeHealth, HealthEngine, rawAccount, type RawAccount } from "../../app/src/engine.js";
import type { PortfolioHealth } from "../../app/src/health.js";
import { PERP_INSTRUMENT, decodePositions, portfolioHealthAccounts } from "../../app/src/trading.js";
import { EngineModule } from "../../app/src/wasm.js";

export interface LiveView {
  portfolio: string;
  owner: string;
  balances: { collateral: number; mint: string; amount: bigint; decimals: number }[];
  positions: { underlying: number; instrument: string; sizeLots: bigint }[];
  health: PortfolioHealth;
}

export async function loadLive(module: EngineModule, rpc: string, address: string): Promise<LiveView> {
  let portfolio: PublicKey;
  try {
    portfolio = new PublicKey(address.trim());
  } catch {
    throw new Error(`portfolio: not a base58 address: ${JSON.stringify(address)}`);
  }
  const connection = new Connection(rpc, "confirmed");
  const client = new XmarginClient();
  const read = async (keys: PublicKey[]): Promise<(RawAccount | null)[]> => {
    const infos = await connection.getMultipleAccountsInfo(keys, "confirmed");
    return infos.map((a, i) => a && rawAccount(keys[i]!, a));
  };
  const [p, r] = await read([portfolio, client.registry]);
  if (!p) throw new Error(`portfolio ${portfolio.toBase58()} does not exist on ${rpc}`);
  if (!r) throw new Error(`the registry ${client.registry.toBase58()} does not exist on ${rpc}: is xmargin deployed there?`);
  const state = client.decodePortfolio(p.data);
  const registry = client.decodeRegistry(r.data);
  const positions = decodePositions(client, p.data);
  const accounts = portfolioHealthAccounts(client, { state, positions }, registry);
  const health = await computeHealth(HealthEngine.of(module), client, read, portfolio, accounts);
  return {
    portfolio: portfolio.toBase58(),
    owner: state.owner.toBase58(),
    balances: state.balances.map((b) => {
      const c = registry.collaterals[b.collateral];
      return { collateral: b.collateral, mint: c?.mint.toBase58() ?? "?", amount: b.amount, decimals: c?.decimals ?? 0 };
    }),
    positions: positions.map((x) => ({ underlying: x.underlying, instrument: x.series === PERP_INSTRUMENT ? "perp" : `series ${x.series}`, sizeLots: x.sizeLots })),
    health,
  };
}
