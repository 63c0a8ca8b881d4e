//! Pyth pull oracle: `PriceUpdateV2` accounts of the Pyth Solana receiver.
//!
//! Borsh layout (after the 8-byte Anchor discriminator):
//! `write_authority: Pubkey`, `verification_level: enum { Partial { num_signatures: u8 }, Full }`
//! (tag byte 0 + one byte, or tag byte 1), `price_message: { feed_id: [u8; 32], price: i64,
//! conf: u64, exponent: i32, publish_time: i64, prev_publish_time: i64, ema_price: i64,
//! ema_conf: u64 }`, `posted_slot: u64`. Accounts on mainnet are 134 bytes: the receiver
//! allocates for the larger `Partial` variant (2 bytes), so a `Full` update leaves one zero
//! byte at the end.
use anchor_lang::prelude::*;

use super::{OraclePrice, RawOracleAccount, PYTH_RECEIVER_PROGRAM};
use crate::error::XmarginError;

/// sha256("account:PriceUpdateV2")[..8].
pub const PRICE_UPDATE_V2_DISCRIMINATOR: [u8; 8] = [34, 241, 35, 99, 157, 126, 244, 205];

/// Little-endian reader over a byte slice; running past the end is `OracleMalformed`.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or_else(|| error!(XmarginError::OracleMalformed))?;
        let bytes = self.data.get(self.at..end).ok_or_else(|| error!(XmarginError::OracleMalformed))?;
        self.at = end;
        Ok(bytes)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
}

pub fn parse(raw: &RawOracleAccount, feed_id: &[u8; 32]) -> Result<OraclePrice> {
    require_keys_eq!(*raw.owner, PYTH_RECEIVER_PROGRAM, XmarginError::OracleWrongOwner);
    let mut r = Reader { data: raw.data, at: 0 };
    require!(r.array::<8>()? == PRICE_UPDATE_V2_DISCRIMINATOR, XmarginError::OracleMalformed);
    let _write_authority = r.take(32)?;
    match r.u8()? {
        0 => {
            let _num_signatures = r.u8()?;
            return err!(XmarginError::OracleNotFullyVerified);
        }
        1 => {}
        _ => return err!(XmarginError::OracleMalformed),
    }
    require!(r.take(32)? == feed_id, XmarginError::OracleWrongFeed);
    // The rest of the message at once: one bounds check, then fixed offsets (a checked read
    // per field cost ~80 compute units each on sBPF, and health reads every oracle).
    let m: &[u8; MESSAGE_REST] =
        r.take(MESSAGE_REST)?.try_into().map_err(|_| error!(XmarginError::OracleMalformed))?;
    Ok(OraclePrice {
        price: i64::from_le_bytes(field(m, 0)),
        conf: u64::from_le_bytes(field(m, 8)),
        expo: i32::from_le_bytes(field(m, 16)),
        publish_time: i64::from_le_bytes(field(m, 20)),
        prev_publish_time: i64::from_le_bytes(field(m, 28)),
        ema_price: Some(i64::from_le_bytes(field(m, 36))),
        // ema_conf at 44, unused.
        slot: u64::from_le_bytes(field(m, 52)),
    })
}

/// Bytes of a `Full` update after the feed id: price, conf, exponent, publish time, previous
/// publish time, EMA price, EMA conf (the message), then the posted slot.
const MESSAGE_REST: usize = 8 + 8 + 4 + 8 + 8 + 8 + 8 + 8;

/// The `N` bytes at `at` of the message's rest (offsets are constants within it).
fn field<const N: usize>(m: &[u8; MESSAGE_REST], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(bytes) = m.get(at..at.saturating_add(N)) {
        out.copy_from_slice(bytes);
    }
    out
}
