//! Socialized losses on quote balances: a bankruptcy the insurance fund cannot cover is
//! spread over every positive quote balance through one index, so that no account is
//! visited. A balance stored when the index was `snapshot` is worth stored × index / snapshot
//! now.
use crate::error::{Result, RiskError};
use crate::fx::{Checked, Fx};

/// A stored quote balance (native units) after the losses socialized since `snapshot`: a
/// positive balance becomes ⌊stored × index / snapshot⌋ (rounded down, so the claims never
/// exceed the vault); a liability is not haircut.
pub fn balance_after_losses(stored: i64, index: Fx, snapshot: Fx) -> Result<i64> {
    if stored <= 0 || index == snapshot {
        return Ok(stored);
    }
    let scaled = Fx::from_num(stored).mul_c(index)?.div_c(snapshot)?;
    Ok(scaled.floor().to_num::<i64>().min(stored))
}

/// The index after socializing `loss` over `total` positive quote balances (native units):
/// index × (total − loss) / total, rounded down. `loss` must be below `total`.
pub fn index_after_loss(index: Fx, total: u64, loss: u64) -> Result<Fx> {
    let remaining = total.checked_sub(loss).filter(|r| *r > 0).ok_or(RiskError::MathDomain)?;
    index.mul_c(Fx::from_num(remaining))?.div_c(Fx::from_num(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_of_a_quarter_haircuts_every_holder_by_a_quarter() {
        let index = index_after_loss(Fx::ONE, 4_000, 1_000).unwrap();
        assert_eq!(index, Fx::from_num(0.75));
        assert_eq!(balance_after_losses(1_000, index, Fx::ONE).unwrap(), 750);
        assert_eq!(balance_after_losses(-500, index, Fx::ONE).unwrap(), -500, "liabilities untouched");
        // A balance written after the loss is not haircut again.
        assert_eq!(balance_after_losses(1_000, index, index).unwrap(), 1_000);
        assert_eq!(index_after_loss(Fx::ONE, 1_000, 1_000), Err(RiskError::MathDomain));
    }
}
