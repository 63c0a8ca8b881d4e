//! Legacy Pyth push price accounts, parsed with `pyth-sdk-solana` (vendored, see
//! vendor/pyth-sdk-solana/PATCH.md).
use anchor_lang::prelude::*;
use pyth_sdk_solana::state::{load_price_account, PriceStatus, SolanaPriceAccount};

use super::{OracleConfig, OraclePrice, RawOracleAccount};
use crate::error::XmarginError;

pub fn parse(raw: &RawOracleAccount, config: &OracleConfig) -> Result<OraclePrice> {
    // Owner first: the SDK reads enum bytes in place, which is only sound on data the Pyth
    // program wrote.
    require_keys_eq!(*raw.owner, config.legacy_program, XmarginError::OracleWrongOwner);
    require!(raw.key.to_bytes() == config.source, XmarginError::OracleWrongAccount);
    let account: &SolanaPriceAccount =
        load_price_account::<32, ()>(raw.data).map_err(|_| error!(XmarginError::OracleMalformed))?;
    require!(account.agg.status == PriceStatus::Trading, XmarginError::OracleNotTrading);
    Ok(OraclePrice {
        price: account.agg.price,
        conf: account.agg.conf,
        expo: account.expo,
        ema_price: Some(account.ema_price.val),
        publish_time: account.timestamp,
        prev_publish_time: account.prev_timestamp,
        slot: account.agg.pub_slot,
    })
}
