//! The short path of `trade`'s health gate: how much the fill changed a side's health, from
//! the traded underlying's positions and the quote cash alone, without reading the rest of
//! the portfolio (`xmargin_risk::marks::single_underlying_change`, exact less one unit of
//! the last place). A side whose health rose at both levels, filled within one tick of the
//! mark, passes the gate whatever its health (`trade` module docs): the long path would
//! let it through as well — either its initial health is not negative afterwards, or it is
//! and no level's health fell and the fill is at the mark — so the short path never admits
//! a fill the long one refuses. It is only taken for a fill that shrinks the side's position
//! (the usual way health rises), so a fill that adds risk does not pay for both paths.
//!
//! Who chooses what: the signers choose the price and the size, as for the long path; the
//! short path reads no remaining account (the health accounts passed are then not read), and
//! applies only when health is separable on the traded underlying: not in an offset group,
//! no collateral linked to it held, the quote weighted at 1 (it always is: it lists at 1 and
//! its haircut never changes). A failure of the short path (stale marks of a series the fill
//! closes, say) hands the decision to the long one.
//!
//! What the short path does not need, by design: the marks of the other underlyings and the
//! oracles of the other assets. A fill that only lowers risk is not held up by another
//! market's keeper — nor by an asset whose oracle fails, which makes the long path refuse
//! the portfolio outright (a borrowed asset that cannot be valued conservatively) and blocks
//! its liquidation too (a third party's valuation is strict). Such a portfolio may then still
//! reduce risk at the mark: what it can hand a counterparty is one tick per unit, the same as
//! the long path allows any portfolio below maintenance, and its requirement falls by more.
use anchor_lang::prelude::*;
use xmargin_risk::fx::{from_native, Fx};
use xmargin_risk::marks::{single_underlying_change, MarkedPosition, MarkedUnderlying};

use crate::error::{risk_error, XmarginError};
use crate::health::{
    current_basis, margin_params, perp_cash_sized, push_marked_position, quote_after_losses, OracleMode,
    Provided,
};
use crate::marks::InitialScale;
use crate::oracle::kind;
use crate::state::{HaircutRegistry, Portfolio};

/// The change of the side's health at `[maintenance, initial]` from `before` to `after`
/// (the same portfolio before and after the fill on `traded`'s underlying), or `None` when
/// health is not separable on that underlying (module docs).
pub fn traded_health_change(
    before: &Portfolio,
    after: &Portfolio,
    registry: &HaircutRegistry,
    traded: &Provided<'_>,
    now: i64,
) -> Result<Option<[Fx; 2]>> {
    let u = traded.market.index;
    let quote = registry.collaterals.first().ok_or(XmarginError::RiskUnknownReference)?;
    if quote.oracle.kind != kind::QUOTE || !quote.haircut.is_unit() {
        return Ok(None);
    }
    // Non-quote balances are the same before and after: a fill moves only the quote.
    let linked_to_u = after.active_balances().filter(|b| b.amount != 0).any(|b| {
        registry
            .listed_collaterals()
            .get(usize::from(b.collateral))
            .is_some_and(|c| c.link.linked_underlying() == Some(u))
    });
    if linked_to_u {
        return Ok(None);
    }
    let scale = InitialScale::of(registry)?;
    let underlying = MarkedUnderlying {
        market: traded.market,
        policy: traded.account.marks_policy(&scale)?,
        stable_price: traded.stable_price,
    };
    let basis = current_basis(registry, &traded.market, &scale)?;
    let quote_decimals = quote.decimals;
    let funding_index = traded.account.funding_index_at(now)?;
    // The state's positions on `u` and its quote cash: the quote balance (losses counted)
    // plus the unrealized cash of its perps on `u`, as the full health counts them.
    let state = |p: &Portfolio| -> Result<(Vec<MarkedPosition>, Fx)> {
        let stored = p.active_balances().find(|b| b.collateral == 0).map_or(0, |b| b.amount);
        let mut cash = quote_after_losses(p, registry, stored)?;
        // Sized once: the program's heap is never freed.
        let mut positions = Vec::with_capacity(p.active_positions().filter(|s| s.underlying == u).count());
        for slot in p.active_positions().filter(|s| s.underlying == u) {
            let position = push_marked_position(
                &mut positions,
                slot,
                traded.account,
                &traded.market,
                &basis,
                quote_decimals,
                now,
            )?;
            if slot.is_perp() {
                let owed = perp_cash_sized(slot, position.size, funding_index, quote_decimals)?;
                cash = cash.checked_add(owed).ok_or(XmarginError::RiskMath)?;
            }
        }
        Ok((positions, from_native(i128::from(cash), quote_decimals).map_err(risk_error)?))
    };
    let (was, cash_before) = state(before)?;
    let (is, cash_after) = state(after)?;
    let params = margin_params(registry, now, OracleMode::Lenient)?;
    single_underlying_change(&was, &is, [cash_before, cash_after], &underlying, now, &params)
        .map_err(risk_error)
}
