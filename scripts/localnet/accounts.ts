// Account data the tests put on a ledger directly (the in-process SVM's setAccount, or a local
// network's `surfnet_setAccount` cheatcode): SPL mints and token accounts, and Pyth price
// updates, byte for byte as their programs lay them out.
import { PublicKey } from "@solana/web3.js";

/** The Pyth receiver program (owner of pull price updates). */
export const PYTH_RECEIVER = "rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ";

/** An initialized mint (82 bytes, no extensions) with `decimals` and mint `authority`. */
export function mintData(decimals: number, authority: PublicKey): Buffer {
  const data = Buffer.alloc(82);
  data.writeUInt32LE(1, 0); // COption::Some(mint authority)
  authority.toBuffer().copy(data, 4);
  data.writeBigUInt64LE(0n, 36); // supply
  data[44] = decimals;
  data[45] = 1; // is_initialized
  return data;
}

/** A token account (165 bytes) of `mint` owned by `owner` holding `amount`. */
export function tokenAccountData(mint: PublicKey, owner: PublicKey, amount: bigint): Buffer {
  const data = Buffer.alloc(165);
  mint.toBuffer().copy(data, 0);
  owner.toBuffer().copy(data, 32);
  data.writeBigUInt64LE(amount, 64);
  data[108] = 1; // initialized
  return data;
}

/** A Pyth `PriceUpdateV2` (fully verified) for `feedId`, published at `publishTime`, the
 * previous update a second before; 134 bytes as on mainnet (the receiver allocates for the
 * larger `Partial` variant, so a `Full` update ends with a zero byte). */
export function pullOracleData(feedId: Buffer, price: bigint, conf: bigint, expo: number, publishTime: bigint, slot: bigint): Buffer {
  const d = Buffer.alloc(134);
  Buffer.from([34, 241, 35, 99, 157, 126, 244, 205]).copy(d, 0);
  let o = 40;
  d[o++] = 1; // Full
  feedId.copy(d, o);
  o += 32;
  d.writeBigInt64LE(price, o);
  d.writeBigUInt64LE(conf, o + 8);
  d.writeInt32LE(expo, o + 16);
  d.writeBigInt64LE(publishTime, o + 20);
  d.writeBigInt64LE(publishTime - 1n, o + 28);
  d.writeBigInt64LE(price, o + 36);
  d.writeBigUInt64LE(conf, o + 44);
  d.writeBigUInt64LE(slot, o + 52);
  return d;
}
