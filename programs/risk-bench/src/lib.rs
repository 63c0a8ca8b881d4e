//! A measurement program, not part of xmargin: it runs the risk engine on the reference
//! 32-position, 8-underlying, 8-collateral portfolio (the one `cargo bench -p xmargin-risk`
//! uses) and logs the compute units left between stages, so the on-chain cost of each part
//! (Greeks, grid, collateral) can be read from the logs. Instruction data: one byte, the
//! stage to run (see `process`).
#![allow(unexpected_cfgs)]
use solana_program::account_info::AccountInfo;
use solana_program::entrypoint::ProgramResult;
use solana_program::log::sol_log_compute_units;
use solana_program::msg;
use solana_program::program_error::ProgramError;
use solana_program::pubkey::Pubkey;
use xmargin_risk::collateral::{Balance, CollateralMarket, HaircutSchedule};
use xmargin_risk::grid::requirement;
use xmargin_risk::portfolio::books;
use xmargin_risk::reference::{book, NOW};
use xmargin_risk::vol::{update, VolParams, VolState};
use xmargin_risk::{margin, Fx, MarginParams, Market, UnderlyingMarket};

#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

solana_program::entrypoint!(process);

fn fx(n: i64) -> Fx {
    Fx::from_num(n)
}

fn collateral() -> (Vec<CollateralMarket>, Vec<Balance>) {
    let mut markets = Vec::with_capacity(8);
    let mut balances = Vec::with_capacity(8);
    for c in 0..8u16 {
        let w = Fx::from_num(0.9) - Fx::from_num(c) / 20;
        markets.push(CollateralMarket {
            index: c,
            price: fx(1 + 10 * i64::from(c)),
            conf: Fx::from_num(0.01),
            schedule: HaircutSchedule::flat(w - Fx::from_num(0.05), w, Fx::from_num(1.2), Fx::from_num(1.1)),
            link: None,
        });
        balances.push(Balance { collateral: c, amount: fx(10_000 / (1 + i64::from(c))) });
    }
    (markets, balances)
}

/// Every underlying's largest price shock replaced by an adaptive one: the shock of an
/// estimator (`VolParams::REFERENCE`, seeded at the underlying's vol) after a 10% hourly drop,
/// as `update_volatility` would have stored it.
fn adapt(underlyings: &mut [UnderlyingMarket]) -> Result<(), ProgramError> {
    let fail = |_| ProgramError::Custom(2);
    let params = VolParams::REFERENCE;
    for u in underlyings {
        let seeded = VolState::new(u.vol, &params).map_err(fail)?;
        let at = update(&seeded, u.spot, NOW - 3_600, &params).map_err(fail)?;
        let dropped = update(&at, u.spot * Fx::from_num(0.9), NOW, &params).map_err(fail)?;
        u.scenario.max_price_shock = dropped.shock;
    }
    Ok(())
}

/// Stage 0: the whole `margin` computation (15: the same with adaptive shocks). 1: netting only (one Black-Scholes evaluation
/// per option). 2: netting, then the grid requirement at both levels. 3: collateral only.
pub fn process(_program: &Pubkey, _accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let stage = data.first().copied().unwrap_or(0);
    let (mut underlyings, positions) = book().map_err(|_| ProgramError::Custom(3))?;
    if stage == 15 {
        adapt(&mut underlyings)?;
    }
    let (markets, balances) = collateral();
    let market = Market { now: NOW, underlyings: &underlyings };
    let params = MarginParams::REFERENCE;
    let fail = |_| ProgramError::Custom(1);
    msg!("inputs built");
    sol_log_compute_units();
    match stage {
        0 | 15 => {
            let r = margin(&positions, &balances, &markets, &market, &params).map_err(fail)?;
            sol_log_compute_units();
            msg!("initial health bits {}", r.initial_health.to_bits());
        }
        1 | 2 => {
            let b = books(&positions, &market).map_err(fail)?;
            msg!("netted");
            sol_log_compute_units();
            if stage == 2 {
                for book in &b {
                    requirement(book, &book.exposure.scenario).map_err(fail)?;
                    requirement(book, &book.exposure.scenario.scaled(params.initial_scale).map_err(fail)?)
                        .map_err(fail)?;
                }
                msg!("grid");
                sol_log_compute_units();
            }
        }
        3 => {
            let r = margin(&[], &balances, &markets, &market, &params).map_err(fail)?;
            sol_log_compute_units();
            msg!("collateral health bits {}", r.initial_health.to_bits());
        }
        // Primitives, 10 of each: I80F48 multiply, divide, integer divide, exp, and one
        // Black-Scholes evaluation.
        // ln, sqrt and the normal CDF on loop-carried values.
        12..=14 => {
            use xmargin_risk::fx::Checked;
            let mut acc = Fx::from_num(1.7);
            for _ in 0..10 {
                let v = match stage {
                    12 => xmargin_risk::math::ln(acc).map_err(fail)?,
                    13 => xmargin_risk::math::sqrt(acc).map_err(fail)?,
                    _ => xmargin_risk::math::norm_cdf(acc).map_err(fail)?,
                };
                acc =
                    acc.add_c(v.abs()).map_err(fail)?.div_i(2).map_err(fail)?.add_c(Fx::ONE).map_err(fail)?;
            }
            sol_log_compute_units();
            msg!("piece {} {}", stage, acc.to_bits());
        }
        // Pieces of exp: range reduction, one series step, rounding to an integer.
        9..=11 => {
            use xmargin_risk::fx::{Checked, LN_2};
            let x = Fx::from_num(0.8);
            let mut acc = Fx::from_num(0.5);
            let mut k_sum = 0i64;
            for i in 1..=10i64 {
                match stage {
                    9 => acc = x.div_c(LN_2).map_err(fail)?.add_c(acc).map_err(fail)?,
                    10 => acc = acc.mul_c(x).map_err(fail)?.div_i(i).map_err(fail)?.add_c(x).map_err(fail)?,
                    _ => {
                        let k: i32 = acc.add_c(x).map_err(fail)?.round().to_num();
                        k_sum += i64::from(k);
                    }
                }
            }
            sol_log_compute_units();
            msg!("piece {} {} {}", stage, acc.to_bits(), k_sum);
        }
        4..=8 => {
            use xmargin_risk::fx::Checked;
            let x = Fx::from_num(1.2345);
            let mut acc = Fx::from_num(0.5);
            for i in 0..10i64 {
                acc = match stage {
                    4 => acc.mul_c(x).map_err(fail)?,
                    5 => acc.div_c(x).map_err(fail)?,
                    6 => acc.div_i(i + 3).map_err(fail)?.add_c(x).map_err(fail)?,
                    7 => xmargin_risk::math::exp(acc.min(Fx::ONE)).map_err(fail)?,
                    _ => {
                        let g = xmargin_risk::bs::greeks(
                            xmargin_risk::bs::OptionKind::Call,
                            fx(100),
                            fx(105 + i),
                            Fx::from_num(0.6),
                            Fx::from_num(0.1),
                        )
                        .map_err(fail)?;
                        g.price
                    }
                };
            }
            sol_log_compute_units();
            msg!("primitive {} result bits {}", stage, acc.to_bits());
        }
        // Integer primitives, 10 of each on loop-carried values: i64 multiply, i64 × i64 → i128,
        // i128 >> 20 back to i64 (checked), i64 division, i128 division by an i64.
        30..=34 => {
            let mut a: i64 = core::hint::black_box(123_456_789);
            let b: i64 = core::hint::black_box(987_654_321);
            let mut w: i128 = core::hint::black_box(1);
            for i in 0..10i64 {
                match stage {
                    30 => a = a.wrapping_mul(b).wrapping_add(i),
                    31 => w = i128::from(a.wrapping_add(i)).wrapping_mul(i128::from(b)).wrapping_add(w),
                    32 => {
                        let p = i128::from(a).wrapping_mul(i128::from(b >> 10));
                        a = i64::try_from(p >> 20).map_err(|_| ProgramError::Custom(4))?.wrapping_add(i);
                    }
                    33 => a = (a.unsigned_abs() / (b.wrapping_add(i) | 1).unsigned_abs()) as i64 + b,
                    _ => {
                        w = (w.wrapping_add(i128::from(a)) << 40)
                            .checked_div(i128::from(b) + i128::from(i))
                            .unwrap_or(0)
                    }
                }
            }
            sol_log_compute_units();
            msg!("int {} {} {}", stage, a, w);
        }
        _ => return Err(ProgramError::InvalidInstructionData),
    }
    Ok(())
}
