// A venue on the local network, set up by transactions over JSON-RPC as an operator's would
// be: the exchange, SOL listed through the timelock (the clock moved past it), its market and
// Pyth feed, and traders with USDC. What `make localnet` seeds and the end-to-end test starts
// from.
import { Keypair, PublicKey } from "@solana/web3.js";

import {
  PERP_INSTRUMENT,
  XmarginClient,
  associatedTokenAccount,
  createMarketIx,
  decodePositions,
  marginBudgetIxs,
  sponsoredFeedAccount,
  tradeIx,
  underlyingAccounts,
} from "../../app/src/index.js";
import { adaptiveUnderlying, exchangeParams, marketParams } from "../../tests/fixtures.js";
import type { Localnet } from "./ledger.js";

export const DAY = 86_400;
/** SOL at 150 USDC (oracle mantissa at exponent −6: quote native units per SOL). */
export const SOL_PRICE = 150_000_000n;
export const SPL = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

export interface VenueKeys {
  /** The program's upgrade authority (creates the exchange). */
  authority: Keypair;
  governance: Keypair;
  guardian: Keypair;
}

export interface Trader {
  owner: Keypair;
  portfolio: PublicKey;
}


export async function seedVenue(net: Localnet, keys: VenueKeys, client = new XmarginClient()) {
  const { authority, governance, guardian } = keys;
  for (const k of [authority, governance, guardian]) await net.fund(k.publicKey);
  const usdc = await net.createMint(6, authority.publicKey, SPL);
  await net.send(authority, [
    await client.initializeExchangeIx(exchangeParams({ payer: authority.publicKey, upgradeAuthority: authority.publicKey, quoteMint: usdc, governance, guardian }, DAY)),
  ]);
  const feed = Buffer.alloc(32, 0x61);
  const oracle = sponsoredFeedAccount(feed);
  const publish = (price: bigint) => net.putPullOracle(oracle, feed, price, price / 10_000n, -6);
  const exchange = async () => client.decodeExchange((await net.connection.getAccountInfo(client.exchange))!.data);
  const id = (await exchange()).nextRiskChangeId;
  await net.send(authority, [
    await client.proposeRiskChangeIx({ payer: authority.publicKey, governance: governance.publicKey, id, change: { listUnderlying: { config: adaptiveUnderlying(feed, 0) } } }),
  ], [governance]);
  await net.warp(DAY);
  await net.send(authority, [await client.executeRiskChangeIx(id, authority.publicKey)]);
  await publish(SOL_PRICE);
  await net.send(authority, [await createMarketIx(client, authority.publicKey, governance.publicKey, marketParams(2, 10_000n))], [governance]);

  /** Health accounts of a quote-only portfolio (`exclude`: a trade's traded underlying). */
  const accounts = async (portfolio: PublicKey, exclude?: number) =>
    underlyingAccounts(client, decodePositions(client, (await net.connection.getAccountInfo(portfolio))!.data), () => oracle, exclude);

  /** A funded wallet with `usdc` native units in its associated account, deposited when `deposit`. */
  const trader = async (usdcNative: bigint, deposit = true, owner?: Keypair): Promise<Trader> => {
    if (owner) await net.fund(owner.publicKey);
    else owner = await net.fundedKeypair();
    const portfolio = client.portfolio(owner.publicKey);
    const source = await net.createTokenAccount(usdc, owner.publicKey, usdcNative, SPL, associatedTokenAccount(owner.publicKey, usdc));
    if (deposit) {
      await net.send(owner, [
        await client.openPortfolioIx(owner.publicKey, owner.publicKey),
        await client.depositIx({ depositor: owner.publicKey, portfolio, mint: usdc, source, tokenProgram: SPL, amount: usdcNative, quote: true }),
      ]);
    }
    return { owner, portfolio };
  };

  /** `taker` buys `lots` SOL perp lots (100 per SOL) from `maker` at `price`. */
  const buyPerp = async (taker: Trader, maker: Trader, lots: bigint, price = SOL_PRICE) =>
    net.send(taker.owner, [
      ...marginBudgetIxs(),
      await tradeIx(client, {
        takerSigner: taker.owner.publicKey,
        makerSigner: maker.owner.publicKey,
        taker: taker.portfolio,
        maker: maker.portfolio,
        underlying: 0,
        instrument: PERP_INSTRUMENT,
        sizeLots: lots,
        price,
        oracle,
        takerHealth: await accounts(taker.portfolio, 0),
        makerHealth: await accounts(maker.portfolio, 0),
      }),
    ], [maker.owner]);

  return { client, usdc, feed, oracle, publish, exchange, accounts, trader, buyPerp };
}

