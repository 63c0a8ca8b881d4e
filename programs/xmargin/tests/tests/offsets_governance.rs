//! Governance of the capital-efficiency registry entries on the compiled .so (issue 14): a
//! collateral linked to an underlying and correlation offset groups. Loosening (linking,
//! moving a link, lowering a basis haircut, forming a group, raising its credit) goes through
//! the timelock with one bounded step per change: a basis haircut at most one step below the
//! standalone haircut it replaces and one step below its current value, a credit at most
//! ½ and one step above the credit in force (above 0 when the members change); the guardian
//! unlinks, raises a basis haircut, lowers a credit or dissolves a group at once, and its
//! tightening makes pending proposals for that target stale. Every refusal has its own error
//! and leaves the registry's bytes as they were.
mod common;

use common::{assert_error, snapshot};
use solana_signer::Signer;
use xmargin::error::XmarginError;
use xmargin::events::{CollateralRiskChanged, OffsetGroupChanged};
use xmargin::instructions::{RiskChangeArgs, TightenOffsetsArgs, TightenRiskArgs};
use xmargin::state::{
    change_kind, CollateralLink, CollateralRiskParams, HaircutRegistry, OffsetGroupConfig, LINK_RATIO_ONE,
    MAX_LINK_RATIO_E9, MAX_OFFSET_CREDIT_BPS, MAX_OFFSET_GROUPS,
};
use xmargin_sandbox::fixtures::{haircut, link, offset_group};
use xmargin_sandbox::venue::Venue;
use xmargin_sandbox::{cu, events, pda, Pubkey, TxFailure, DEFAULT_TIMELOCK_SECS};

/// Prices in quote native units per unit (6-decimal quote).
const BTC: i64 = 60_000_000_000;
const ETH: i64 = 3_000_000_000;
const SOL: i64 = 150_000_000;
const AVAX: i64 = 30_000_000;
const DOGE: i64 = 200_000;
const CEILING: u64 = 40_000;
/// `tighten_offsets` reads and writes one registry entry (~6.3k CU).
const OFFSETS_CEILING: u64 = 10_000;

fn registry_key() -> Pubkey {
    pda::registry(&pda::exchange())
}

/// BTC (underlying 0) and ETH (1), and wrapped BTC (8 decimals, initial 80%, maintenance 90%)
/// as collateral 1.
fn venue_with_wbtc() -> (Venue, u8) {
    let mut v = Venue::new(&[BTC, ETH]).unwrap_or_else(|e| panic!("{e}"));
    let wbtc = v.list_collateral_asset(8, BTC, 8_000, 9_000).unwrap_or_else(|f| panic!("{f}"));
    (v, wbtc)
}

/// Five listed underlyings (a group of five members must be expressible).
fn venue_with_five() -> Venue {
    Venue::new(&[BTC, ETH, SOL, AVAX, DOGE]).unwrap_or_else(|e| panic!("{e}"))
}

fn landed(result: Result<xmargin_sandbox::TxSuccess, TxFailure>) -> xmargin_sandbox::TxSuccess {
    result.unwrap_or_else(|f| panic!("{f}"))
}

/// Proposes and executes `link` for `index`, asserting it applied; returns the execution's
/// `CollateralRiskChanged` event.
fn link_through_timelock(v: &mut Venue, index: u8, new: CollateralLink) -> CollateralRiskChanged {
    let done = landed(v.link_collateral(index, new));
    assert_eq!(v.collateral_params(index).link, new);
    events::<CollateralRiskChanged>(&done.logs).remove(0)
}

/// A proposal the program refuses with `expected`, the registry and the exchange (its next
/// proposal id) unchanged.
fn refused_proposal(v: &mut Venue, args: RiskChangeArgs, expected: XmarginError) {
    let keys = [registry_key(), pda::exchange()];
    let before = snapshot(v, &keys);
    let failure = v.propose(args).expect_err("proposal refused");
    assert_error(&failure, expected);
    assert_eq!(snapshot(v, &keys), before, "a refused proposal ({expected:?}) changed nothing");
}

fn refused_link(v: &mut Venue, index: u8, new: CollateralLink, expected: XmarginError) {
    let params = CollateralRiskParams { link: new, ..v.collateral_params(index) };
    refused_proposal(v, RiskChangeArgs::Collateral { index, params }, expected);
}

fn refused_group(v: &mut Venue, index: u8, group: OffsetGroupConfig, expected: XmarginError) {
    refused_proposal(v, RiskChangeArgs::OffsetGroup { index, group }, expected);
}

/// A guardian action refused with `expected`, the registry unchanged.
fn refused_guardian(
    v: &mut Venue,
    action: impl FnOnce(&mut Venue) -> Result<xmargin_sandbox::TxSuccess, TxFailure>,
    expected: XmarginError,
) {
    let before = snapshot(v, &[registry_key()]);
    assert_error(&action(v).expect_err("guardian action refused"), expected);
    assert_eq!(snapshot(v, &[registry_key()]), before, "a refused guardian action changed nothing");
}

#[test]
fn a_link_waits_for_the_timelock() {
    let (mut v, wbtc) = venue_with_wbtc();
    let new = link(0, 500, 300, LINK_RATIO_ONE);
    let id = v.propose_collateral_link(wbtc, new).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(v.collateral_params(wbtc).link, CollateralLink::default(), "nothing applies at proposal");
    assert_error(&v.execute(id).unwrap_err(), XmarginError::TimelockNotExpired);
    v.warp(DEFAULT_TIMELOCK_SECS - 10);
    assert_error(&v.execute(id).unwrap_err(), XmarginError::TimelockNotExpired);
    assert!(!v.collateral_params(wbtc).link.is_active());
    v.warp(10);
    let done = landed(v.execute(id));
    cu::record("execute_risk_change", "collateral link", done.compute_units, CEILING);
    let registry = v.sb.registry().unwrap();
    assert_eq!(registry.collaterals[usize::from(wbtc)].link, new);
    assert!(registry.collaterals[usize::from(wbtc)].link.is_active());
    // The rest of the collateral's parameters are untouched; the event carries old and new.
    let event = events::<CollateralRiskChanged>(&done.logs).remove(0);
    assert_eq!((event.change_id, event.collateral), (Some(id), wbtc));
    assert_eq!(event.old.link, CollateralLink::default());
    assert_eq!(event.new.link, new);
    assert_eq!(CollateralRiskParams { link: new, ..event.old }, event.new);
    assert!(v.execute(id).is_err(), "a proposal executes once");
    // A linked LST-like ratio (1.08 units per token) is a valid link too, through the timelock.
    let lst = link(1, 800, 500, 1_080_000_000);
    let event = link_through_timelock(&mut v, wbtc, lst);
    assert_eq!((event.old.link, event.new.link), (new, lst));
}

#[test]
fn the_guardian_unlinks_at_once_and_only_the_guardian() {
    let (mut v, wbtc) = venue_with_wbtc();
    let new = link(0, 500, 300, LINK_RATIO_ONE);
    link_through_timelock(&mut v, wbtc, new);
    let unlinked = CollateralRiskParams { link: CollateralLink::default(), ..v.collateral_params(wbtc) };
    // Neither governance nor a stranger may use the guardian's instruction.
    for signer in [v.fx.governance.insecure_clone(), v.sb.funded_keypair()] {
        let ix =
            v.sb.tighten_risk_ix(signer.pubkey(), TightenRiskArgs { collateral: wbtc, params: unlinked });
        let before = snapshot(&v, &[registry_key()]);
        assert_error(&v.sb.send(&[ix], &[&signer]).unwrap_err(), XmarginError::NotGuardian);
        assert_eq!(snapshot(&v, &[registry_key()]), before);
    }
    let done = landed(v.unlink_collateral(wbtc));
    cu::record("tighten_risk", "guardian: unlink a collateral", done.compute_units, CEILING);
    assert_eq!(v.collateral_params(wbtc), unlinked);
    let event = events::<CollateralRiskChanged>(&done.logs).remove(0);
    assert_eq!((event.change_id, event.old.link, event.new.link), (None, new, CollateralLink::default()));
}

#[test]
fn the_guardian_cannot_link_move_a_link_or_lower_a_basis_haircut() {
    let (mut v, wbtc) = venue_with_wbtc();
    let with = |v: &Venue, l: CollateralLink| CollateralRiskParams { link: l, ..v.collateral_params(wbtc) };
    // Linking is loosening.
    let p = with(&v, link(0, 500, 300, LINK_RATIO_ONE));
    refused_guardian(&mut v, |v| v.tighten_risk(wbtc, p), XmarginError::GuardianCannotLoosen);
    link_through_timelock(&mut v, wbtc, link(0, 500, 300, LINK_RATIO_ONE));
    // Lowering either basis haircut, moving the link to another underlying or ratio: loosening.
    for l in [
        link(0, 400, 300, LINK_RATIO_ONE),
        link(0, 500, 200, LINK_RATIO_ONE),
        link(1, 500, 300, LINK_RATIO_ONE),
        link(0, 500, 300, 1_080_000_000),
        link(0, 900, 800, 900_000_000),
    ] {
        let p = with(&v, l);
        refused_guardian(&mut v, |v| v.tighten_risk(wbtc, p), XmarginError::GuardianCannotLoosen);
    }
    // Raising a basis haircut is tightening: applied at once.
    let raised = link(0, 900, 300, LINK_RATIO_ONE);
    landed(v.tighten_risk(wbtc, with(&v, raised)));
    assert_eq!(v.collateral_params(wbtc).link, raised);
    // A raise past 10,000 bps is refused with the link's own error.
    let p = with(&v, link(0, 10_001, 300, LINK_RATIO_ONE));
    refused_guardian(&mut v, |v| v.tighten_risk(wbtc, p), XmarginError::InvalidBasisHaircut);
    // An "unlink" that leaves bytes behind is malformed.
    let p = with(&v, CollateralLink { active: 0, ..raised });
    refused_guardian(&mut v, |v| v.tighten_risk(wbtc, p), XmarginError::MalformedCollateralLink);
}

#[test]
fn invalid_links_are_refused_with_their_own_errors() {
    let (mut v, wbtc) = venue_with_wbtc();
    // The quote asset is never linked.
    refused_link(&mut v, 0, link(0, 500, 300, LINK_RATIO_ONE), XmarginError::QuoteAssetCannotBeLinked);
    // Two underlyings are listed: index 2 is not.
    refused_link(&mut v, wbtc, link(2, 500, 300, LINK_RATIO_ONE), XmarginError::LinkUnderlyingNotListed);
    refused_link(&mut v, wbtc, link(0, 10_001, 300, LINK_RATIO_ONE), XmarginError::InvalidBasisHaircut);
    refused_link(&mut v, wbtc, link(0, 300, 500, LINK_RATIO_ONE), XmarginError::InvalidBasisHaircut);
    refused_link(&mut v, wbtc, link(0, 500, 300, 0), XmarginError::InvalidLinkRatio);
    refused_link(&mut v, wbtc, link(0, 500, 300, MAX_LINK_RATIO_E9 + 1), XmarginError::InvalidLinkRatio);
    refused_link(
        &mut v,
        wbtc,
        CollateralLink { active: 2, ..link(0, 500, 300, LINK_RATIO_ONE) },
        XmarginError::MalformedCollateralLink,
    );
    refused_link(
        &mut v,
        wbtc,
        CollateralLink { active: 0, ..link(0, 500, 300, LINK_RATIO_ONE) },
        XmarginError::MalformedCollateralLink,
    );
    refused_link(
        &mut v,
        wbtc,
        CollateralLink { _padding: [1, 0], ..link(0, 500, 300, LINK_RATIO_ONE) },
        XmarginError::MalformedCollateralLink,
    );
    // The bounds themselves are accepted: 10 units per token, 100% basis haircut.
    link_through_timelock(&mut v, wbtc, link(1, 10_000, 10_000, MAX_LINK_RATIO_E9));
}

#[test]
fn a_stale_link_proposal_cannot_undo_the_guardian() {
    let (mut v, wbtc) = venue_with_wbtc();
    link_through_timelock(&mut v, wbtc, link(0, 900, 600, LINK_RATIO_ONE));
    // Governance proposes a lower basis haircut; meanwhile the guardian unlinks.
    let id = v.propose_collateral_link(wbtc, link(0, 500, 300, LINK_RATIO_ONE)).unwrap();
    landed(v.unlink_collateral(wbtc));
    v.warp(DEFAULT_TIMELOCK_SECS);
    let before = snapshot(&v, &[registry_key()]);
    assert_error(&v.execute(id).unwrap_err(), XmarginError::RiskChangeStale);
    assert_eq!(snapshot(&v, &[registry_key()]), before);
    assert!(!v.collateral_params(wbtc).link.is_active());
}

#[test]
fn offset_groups_go_through_the_timelock() {
    let mut v = venue_with_five();
    let group = offset_group(&[0, 1], 2_500);
    let id = v.propose_offset_group(0, group).unwrap_or_else(|f| panic!("{f}"));
    let change =
        v.sb.zero_copy_account::<xmargin::state::RiskChange>(&pda::risk_change(&pda::exchange(), id));
    let change = change.expect("proposal account");
    assert_eq!((change.kind, change.target), (change_kind::OFFSET_GROUP, 0));
    assert_eq!((change.offset_group, change.offset_group_before), (group, OffsetGroupConfig::default()));
    assert_error(&v.execute(id).unwrap_err(), XmarginError::TimelockNotExpired);
    v.warp(DEFAULT_TIMELOCK_SECS - 10);
    assert_error(&v.execute(id).unwrap_err(), XmarginError::TimelockNotExpired);
    v.warp(10);
    let done = landed(v.execute(id));
    cu::record("execute_risk_change", "offset group", done.compute_units, CEILING);
    let registry = v.sb.registry().unwrap();
    let used: Vec<(usize, OffsetGroupConfig)> = registry.offset_groups().map(|(i, g)| (i, *g)).collect();
    assert_eq!(used, vec![(0, group)]);
    assert_eq!(group.members().collect::<Vec<_>>(), vec![0, 1]);
    let event = events::<OffsetGroupChanged>(&done.logs).remove(0);
    assert_eq!(
        (event.change_id, event.group, event.old, event.new),
        (Some(id), 0, OffsetGroupConfig::default(), group)
    );
    // A second, disjoint group of four; then governance dissolves the first one (all zero).
    let four = offset_group(&[2, 3, 4], 1_000);
    landed(v.set_offset_group(1, four));
    landed(v.set_offset_group(0, OffsetGroupConfig::default()));
    let registry = v.sb.registry().unwrap();
    let used: Vec<(usize, OffsetGroupConfig)> = registry.offset_groups().map(|(i, g)| (i, *g)).collect();
    assert_eq!(used, vec![(1, four)]);
}

#[test]
fn invalid_or_overlapping_groups_are_refused() {
    let mut v = venue_with_five();
    refused_group(&mut v, 0, offset_group(&[0], 1_000), XmarginError::OffsetGroupMemberCount);
    refused_group(&mut v, 0, offset_group(&[0, 1, 2, 3, 4], 1_000), XmarginError::OffsetGroupMemberCount);
    refused_group(&mut v, 0, offset_group(&[0, 5], 1_000), XmarginError::OffsetGroupMemberNotListed);
    refused_group(&mut v, 0, offset_group(&[0, 15], 1_000), XmarginError::OffsetGroupMemberNotListed);
    refused_group(&mut v, 0, offset_group(&[0, 1], 10_001), XmarginError::InvalidOffsetCredit);
    refused_group(&mut v, 0, offset_group(&[], 1_000), XmarginError::MalformedOffsetGroup);
    refused_group(
        &mut v,
        0,
        OffsetGroupConfig { _padding: [0, 0, 0, 1], ..offset_group(&[0, 1], 1_000) },
        XmarginError::MalformedOffsetGroup,
    );
    refused_group(
        &mut v,
        MAX_OFFSET_GROUPS as u8,
        offset_group(&[0, 1], 1_000),
        XmarginError::UnknownRiskTarget,
    );
    // Overlap with a group in force is refused at proposal.
    landed(v.set_offset_group(0, offset_group(&[0, 1], 2_000)));
    refused_group(&mut v, 1, offset_group(&[1, 2], 1_000), XmarginError::OffsetGroupsOverlap);
    // A group may be re-proposed in its own slot with overlapping members of its own.
    landed(v.set_offset_group(0, offset_group(&[0, 1, 2], 2_000)));
    // Two pending proposals that overlap each other: the second one executed is refused.
    let a = v.propose_offset_group(1, offset_group(&[3, 4], 1_000)).unwrap();
    let b = v.propose_offset_group(2, offset_group(&[4, 3], 1_000)).unwrap();
    v.warp(DEFAULT_TIMELOCK_SECS);
    landed(v.execute(a));
    let before = snapshot(&v, &[registry_key()]);
    assert_error(&v.execute(b).unwrap_err(), XmarginError::OffsetGroupsOverlap);
    assert_eq!(snapshot(&v, &[registry_key()]), before);
}

#[test]
fn the_credit_rises_one_step_per_change() {
    let mut v = venue_with_five();
    let step = v.sb.exchange().unwrap().max_weight_step_bps;
    assert_eq!(step, 2_500);
    refused_group(&mut v, 0, offset_group(&[0, 1], step + 1), XmarginError::OffsetCreditStepTooLarge);
    landed(v.set_offset_group(0, offset_group(&[0, 1], 1_000)));
    // The step is measured from the credit in force while the members stay.
    refused_group(&mut v, 0, offset_group(&[0, 1], 1_000 + step + 1), XmarginError::OffsetCreditStepTooLarge);
    landed(v.set_offset_group(0, offset_group(&[0, 1], 1_000 + step)));
    // A member change starts again from 0, even below the credit in force.
    refused_group(&mut v, 0, offset_group(&[0, 1, 2], step + 1), XmarginError::OffsetCreditStepTooLarge);
    landed(v.set_offset_group(0, offset_group(&[0, 1, 2], step)));
    // Lowering is not bounded.
    landed(v.set_offset_group(0, offset_group(&[0, 1, 2], 0)));
    assert_eq!(v.offset_group(0), offset_group(&[0, 1, 2], 0));
}

/// The review's bypass: {BTC, ETH} raised to ½ in two steps, then the credit carried over to
/// {BTC, SOL} and on to {BTC, ETH, SOL} at ¾, none of it stepped. Any member added or removed
/// bounds the new credit as if the old one were 0, so each new set of members earns its
/// credit one step at a time again.
#[test]
fn a_member_change_restarts_the_credit_from_zero() {
    let mut v = venue_with_five();
    let step = v.sb.exchange().unwrap().max_weight_step_bps;
    let (btc, eth, sol) = (0, 1, 2);
    landed(v.set_offset_group(0, offset_group(&[btc, eth], step)));
    landed(v.set_offset_group(0, offset_group(&[btc, eth], 2 * step)));
    assert_eq!(v.offset_group(0), offset_group(&[btc, eth], 5_000));
    // Swapping a member, adding one, removing one (down to another pair): each keeps at most
    // one step of credit.
    for members in [&[btc, sol][..], &[btc, eth, sol], &[eth, sol], &[btc, sol, 3]] {
        refused_group(&mut v, 0, offset_group(members, 2 * step), XmarginError::OffsetCreditStepTooLarge);
        refused_group(&mut v, 0, offset_group(members, step + 1), XmarginError::OffsetCreditStepTooLarge);
    }
    // The swap itself is a legal change at one step, and the next member change again.
    landed(v.set_offset_group(0, offset_group(&[btc, sol], step)));
    refused_group(&mut v, 0, offset_group(&[btc, eth, sol], 3 * step), XmarginError::InvalidOffsetCredit);
    refused_group(
        &mut v,
        0,
        offset_group(&[btc, eth, sol], 2 * step),
        XmarginError::OffsetCreditStepTooLarge,
    );
    landed(v.set_offset_group(0, offset_group(&[btc, eth, sol], step)));
    // Back to the first pair: again one step.
    landed(v.set_offset_group(0, offset_group(&[btc, eth], step)));
    // Dissolving and forming the group again is no way round it either.
    landed(v.set_offset_group(0, offset_group(&[btc, eth], 2 * step)));
    landed(v.set_offset_group(0, OffsetGroupConfig::default()));
    refused_group(&mut v, 0, offset_group(&[btc, eth], 2 * step), XmarginError::OffsetCreditStepTooLarge);
    // Nor moving the pair to another group slot: a fresh slot starts from 0.
    refused_group(&mut v, 1, offset_group(&[btc, eth], step + 1), XmarginError::OffsetCreditStepTooLarge);
    assert_eq!(v.offset_group(0), OffsetGroupConfig::default());
}

/// ρ ≤ ½: above it, taking one leg of an offsetting pair raises the group's requirement by
/// more than it frees, so a book under water could not be liquidated one leg at a time.
#[test]
fn the_credit_never_exceeds_one_half() {
    let mut v = venue_with_five();
    assert_eq!(MAX_OFFSET_CREDIT_BPS, 5_000);
    landed(v.set_offset_group(0, offset_group(&[0, 1], 2_500)));
    // Within the step but above the cap.
    refused_group(
        &mut v,
        0,
        offset_group(&[0, 1], MAX_OFFSET_CREDIT_BPS + 1),
        XmarginError::InvalidOffsetCredit,
    );
    // The cap itself is legal.
    landed(v.set_offset_group(0, offset_group(&[0, 1], MAX_OFFSET_CREDIT_BPS)));
    for credit in [MAX_OFFSET_CREDIT_BPS + 1, 7_500, 10_000] {
        refused_group(&mut v, 0, offset_group(&[0, 1], credit), XmarginError::InvalidOffsetCredit);
    }
    // A second group, at the cap as well (two steps).
    landed(v.set_offset_group(1, offset_group(&[2, 3], MAX_OFFSET_CREDIT_BPS / 2)));
    landed(v.set_offset_group(1, offset_group(&[2, 3], MAX_OFFSET_CREDIT_BPS)));
    refused_group(
        &mut v,
        1,
        offset_group(&[2, 3], MAX_OFFSET_CREDIT_BPS + 1),
        XmarginError::InvalidOffsetCredit,
    );
    // A group left above the cap (written before the cap existed) is never raised, but the
    // guardian lowers it by any amount at once: its path is unaffected.
    v.sb.patch_zero_copy::<HaircutRegistry>(&registry_key(), |r| r.offset_groups[0].credit_bps = 9_000);
    refused_group(&mut v, 0, offset_group(&[0, 1], 9_000), XmarginError::InvalidOffsetCredit);
    landed(v.lower_offset_credit(0, 7_000));
    assert_eq!(v.offset_group(0), offset_group(&[0, 1], 7_000));
    // Governance may only bring it under the cap.
    refused_group(&mut v, 0, offset_group(&[0, 1], 6_000), XmarginError::InvalidOffsetCredit);
    landed(v.set_offset_group(0, offset_group(&[0, 1], MAX_OFFSET_CREDIT_BPS)));
}

#[test]
fn the_guardian_lowers_or_dissolves_a_group_at_once() {
    let mut v = venue_with_five();
    let group = offset_group(&[0, 1], 2_500);
    landed(v.set_offset_group(0, group));
    // Not the guardian.
    for signer in [v.fx.governance.insecure_clone(), v.sb.funded_keypair()] {
        let args = TightenOffsetsArgs { group: 0, config: offset_group(&[0, 1], 1_000) };
        let ix = v.sb.tighten_offsets_ix(signer.pubkey(), args);
        let before = snapshot(&v, &[registry_key()]);
        assert_error(&v.sb.send(&[ix], &[&signer]).unwrap_err(), XmarginError::NotGuardian);
        assert_eq!(snapshot(&v, &[registry_key()]), before);
    }
    // Lowered at once.
    let done = landed(v.lower_offset_credit(0, 1_000));
    cu::record("tighten_offsets", "guardian: lower a group's credit", done.compute_units, OFFSETS_CEILING);
    let lowered = offset_group(&[0, 1], 1_000);
    assert_eq!(v.offset_group(0), lowered);
    let event = events::<OffsetGroupChanged>(&done.logs).remove(0);
    assert_eq!((event.change_id, event.group, event.old, event.new), (None, 0, group, lowered));
    // Never raised, never a member change (not even with a lower credit), never a new group.
    refused_guardian(&mut v, |v| v.lower_offset_credit(0, 1_001), XmarginError::GuardianCannotLoosen);
    refused_guardian(
        &mut v,
        |v| v.tighten_offsets(0, offset_group(&[0, 2], 500)),
        XmarginError::GuardianCannotLoosen,
    );
    refused_guardian(
        &mut v,
        |v| v.tighten_offsets(0, offset_group(&[0], 500)),
        XmarginError::GuardianCannotLoosen,
    );
    refused_guardian(
        &mut v,
        |v| v.tighten_offsets(1, offset_group(&[2, 3], 100)),
        XmarginError::GuardianCannotLoosen,
    );
    refused_guardian(
        &mut v,
        |v| v.tighten_offsets(MAX_OFFSET_GROUPS as u8, OffsetGroupConfig::default()),
        XmarginError::UnknownRiskTarget,
    );
    // Credit 0 dissolves the group: the whole entry is zeroed.
    let done = landed(v.lower_offset_credit(0, 0));
    cu::record("tighten_offsets", "guardian: dissolve a group", done.compute_units, OFFSETS_CEILING);
    assert_eq!(v.offset_group(0), OffsetGroupConfig::default());
    assert_eq!(v.sb.registry().unwrap().offset_groups().count(), 0);
    let event = events::<OffsetGroupChanged>(&done.logs).remove(0);
    assert_eq!((event.old, event.new), (lowered, OffsetGroupConfig::default()));
    // A dissolved group is formed again only through the timelock.
    refused_guardian(&mut v, |v| v.tighten_offsets(0, lowered), XmarginError::GuardianCannotLoosen);
}

#[test]
fn a_stale_group_proposal_cannot_undo_the_guardian() {
    let mut v = venue_with_five();
    landed(v.set_offset_group(0, offset_group(&[0, 1], 2_500)));
    let raise = v.propose_offset_group(0, offset_group(&[0, 1], 5_000)).unwrap();
    let regroup = v.propose_offset_group(0, offset_group(&[0, 1, 2], 2_500)).unwrap();
    // A proposal for another group is not affected by the guardian's tightening of group 0.
    let other = v.propose_offset_group(1, offset_group(&[3, 4], 1_000)).unwrap();
    landed(v.lower_offset_credit(0, 1_000));
    v.warp(DEFAULT_TIMELOCK_SECS);
    for id in [raise, regroup] {
        let before = snapshot(&v, &[registry_key()]);
        assert_error(&v.execute(id).unwrap_err(), XmarginError::RiskChangeStale);
        assert_eq!(snapshot(&v, &[registry_key()]), before);
    }
    assert_eq!(v.offset_group(0), offset_group(&[0, 1], 1_000));
    landed(v.execute(other));
    assert_eq!(v.offset_group(1), offset_group(&[3, 4], 1_000));
    // Dissolving makes a pending proposal stale too.
    let again = v.propose_offset_group(0, offset_group(&[0, 1], 2_000)).unwrap();
    landed(v.lower_offset_credit(0, 0));
    v.warp(DEFAULT_TIMELOCK_SECS);
    assert_error(&v.execute(again).unwrap_err(), XmarginError::RiskChangeStale);
    assert_eq!(v.offset_group(0), OffsetGroupConfig::default());
}

/// BTC (0) and ETH (1), and an asset at 50% initial and maintenance weight as collateral 1:
/// standalone, half its value is haircut at both levels.
fn venue_with_half_weight() -> (Venue, u8) {
    let mut v = Venue::new(&[BTC, ETH]).unwrap_or_else(|e| panic!("{e}"));
    let asset = v.list_collateral_asset(8, BTC, 5_000, 5_000).unwrap_or_else(|f| panic!("{f}"));
    (v, asset)
}

/// The review's bypass: an asset with 50% weights linked in one change with basis 0 (and 10
/// units per token). Linking replaces the standalone haircut of the linked part (here 50%) by
/// the basis haircut, so it may start at most one step below it: ≥ 10,000 − weight − step.
#[test]
fn a_link_starts_at_most_one_step_below_the_standalone_haircut() {
    let (mut v, asset) = venue_with_half_weight();
    let step = v.sb.exchange().unwrap().max_weight_step_bps;
    let floor = 10_000 - 5_000 - step;
    assert_eq!(floor, 2_500);
    for l in [
        link(0, 0, 0, MAX_LINK_RATIO_E9),
        link(0, 0, 0, LINK_RATIO_ONE),
        link(0, floor - 1, floor - 1, LINK_RATIO_ONE),
        // Each level on its own.
        link(0, floor - 1, 0, LINK_RATIO_ONE),
        link(0, 10_000, floor - 1, LINK_RATIO_ONE),
    ] {
        refused_link(&mut v, asset, l, XmarginError::BasisHaircutStepTooLarge);
    }
    // The bound uses the weights of the same change: lowering the weights in the proposal
    // raises the standalone haircut, and with it the floor.
    let mut params =
        CollateralRiskParams { link: link(0, floor, floor, LINK_RATIO_ONE), ..v.collateral_params(asset) };
    params.haircut = haircut(4_000, 5_000, &[]);
    refused_proposal(
        &mut v,
        RiskChangeArgs::Collateral { index: asset, params },
        XmarginError::BasisHaircutStepTooLarge,
    );
    // Exactly at the bound: linked.
    let at = link(0, floor, floor, LINK_RATIO_ONE);
    link_through_timelock(&mut v, asset, at);
    // Moving the link (another underlying, another ratio) is bounded the same way.
    refused_link(
        &mut v,
        asset,
        link(1, floor - 1, floor - 1, LINK_RATIO_ONE),
        XmarginError::BasisHaircutStepTooLarge,
    );
    refused_link(
        &mut v,
        asset,
        link(0, floor, floor - 1, 2 * LINK_RATIO_ONE),
        XmarginError::BasisHaircutStepTooLarge,
    );
    link_through_timelock(&mut v, asset, link(1, floor, floor, 2 * LINK_RATIO_ONE));
    // And so is a basis haircut lowered on the linked asset: never below the floor.
    refused_link(
        &mut v,
        asset,
        link(1, floor - 1, floor - 1, 2 * LINK_RATIO_ONE),
        XmarginError::BasisHaircutStepTooLarge,
    );
    // Governance unlinks, then links again: bounded as any new link.
    landed(v.link_collateral(asset, CollateralLink::default()));
    refused_link(&mut v, asset, link(0, 0, 0, LINK_RATIO_ONE), XmarginError::BasisHaircutStepTooLarge);
    // Raising the weights by one step in the same change lowers the floor with them: a full
    // step of weight and a full step of basis below the new standalone haircut.
    let mut params =
        CollateralRiskParams { link: link(0, 0, 0, LINK_RATIO_ONE), ..v.collateral_params(asset) };
    params.haircut = haircut(5_000 + step, 5_000 + step, &[]);
    let id = v.propose(RiskChangeArgs::Collateral { index: asset, params }).unwrap_or_else(|f| panic!("{f}"));
    v.warp(DEFAULT_TIMELOCK_SECS);
    landed(v.execute(id));
    assert_eq!(v.collateral_params(asset), params);
}

/// A basis haircut on a linked asset falls by at most one step per change (rises freely),
/// even where the standalone bound is far below.
#[test]
fn a_basis_haircut_falls_at_most_one_step_per_change() {
    // wBTC at 80% / 90%: the standalone bounds (20% − 25%, 10% − 25%) are below 0.
    let (mut v, wbtc) = venue_with_wbtc();
    let step = v.sb.exchange().unwrap().max_weight_step_bps;
    link_through_timelock(&mut v, wbtc, link(0, 10_000, 10_000, LINK_RATIO_ONE));
    refused_link(&mut v, wbtc, link(0, 0, 0, LINK_RATIO_ONE), XmarginError::BasisHaircutStepTooLarge);
    refused_link(
        &mut v,
        wbtc,
        link(0, 10_000 - step - 1, 10_000 - step - 1, LINK_RATIO_ONE),
        XmarginError::BasisHaircutStepTooLarge,
    );
    // Each level on its own.
    refused_link(
        &mut v,
        wbtc,
        link(0, 10_000, 10_000 - step - 1, LINK_RATIO_ONE),
        XmarginError::BasisHaircutStepTooLarge,
    );
    // Moving the link does not reset it.
    refused_link(&mut v, wbtc, link(1, 500, 300, LINK_RATIO_ONE), XmarginError::BasisHaircutStepTooLarge);
    // One step per change, at both levels.
    link_through_timelock(&mut v, wbtc, link(0, 10_000 - step, 10_000 - step, LINK_RATIO_ONE));
    link_through_timelock(&mut v, wbtc, link(0, 10_000 - 2 * step, 10_000 - 2 * step, LINK_RATIO_ONE));
    refused_link(
        &mut v,
        wbtc,
        link(0, 10_000 - 2 * step, 10_000 - 3 * step - 1, LINK_RATIO_ONE),
        XmarginError::BasisHaircutStepTooLarge,
    );
    link_through_timelock(&mut v, wbtc, link(0, 10_000 - 2 * step, 10_000 - 3 * step, LINK_RATIO_ONE));
    // Raising is not bounded.
    link_through_timelock(&mut v, wbtc, link(0, 10_000, 10_000, LINK_RATIO_ONE));
}
