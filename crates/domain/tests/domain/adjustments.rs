//! Issue 14: 核减 as signed facts. A county principal requests, a different county or auditor
//! principal approves, either may revoke; nobody adjusts a figure alone.

use crate::common::*;
use domain::adjustment::{adjustable, adjustment_id, AdjustmentStatus};
use domain::command::*;
use domain::*;

const T0: &str = "2026-03-02T09:30:00+08:00";
const T1: &str = "2026-03-10T10:00:00+08:00";

fn request(measure: &str) -> Command {
    Command::RequestAdjustment(RequestAdjustment {
        measure: measure.into(),
        reason: "经县联席会议认定不计入".into(),
        document_no: "X信联〔2026〕7号".into(),
    })
}

fn approve(id: uuid::Uuid) -> Command {
    Command::ApproveAdjustment(ApproveAdjustment { adjustment_id: id })
}

fn revoke(id: uuid::Uuid) -> Command {
    Command::RevokeAdjustment(RevokeAdjustment {
        adjustment_id: id,
        reason: "复核认定属实".into(),
    })
}

fn auditor() -> Principal {
    principal("auditor-1", Role::Auditor, None)
}

fn registered() -> World {
    let mut w = World::new();
    w.run(T0, Command::Register(register_cmd(T0)));
    w
}

#[test]
fn a_request_is_pending_and_its_id_is_derived_from_the_version_it_makes() {
    let mut w = registered();
    let (status, version) = (w.case().status, w.case().version);
    let last = w.case().last_occurred_at;
    let case = w.run(T1, request("open_overdue")).clone();
    let a = &case.adjustments[0];
    assert_eq!(a.adjustment_id, adjustment_id(case_id(), version + 1));
    assert_eq!(a.status, AdjustmentStatus::Pending);
    assert_eq!(a.requested_by, county().id);
    assert_eq!(a.version, version + 1);
    assert_eq!(case.status, status, "the handling is untouched");
    assert_eq!(case.last_occurred_at, last, "nor its business clock");
}

#[test]
fn the_requester_cannot_approve_but_another_county_or_auditor_principal_can() {
    let mut w = registered();
    let id = w.run(T1, request("items")).adjustments[0].adjustment_id;
    assert_eq!(w.refuse(T1, approve(id)).code(), "forbidden");
    let clerk = principal("clerk-gaoqiao-1", Role::Clerk, Some("gaoqiao"));
    assert_eq!(w.refuse_as(&clerk, T1, approve(id)).code(), "forbidden");
    let analyst = principal("analyst-1", Role::Analyst, None);
    assert_eq!(w.refuse_as(&analyst, T1, approve(id)).code(), "forbidden");
    let case = w
        .try_as(&auditor(), T1, approve(id))
        .expect("approved")
        .clone();
    let a = &case.adjustments[0];
    assert_eq!(a.status, AdjustmentStatus::Approved);
    assert_eq!(a.approved_by, Some(auditor().id));
    // Approved once only.
    let other = principal("county-2", Role::County, Some("county"));
    assert_eq!(w.refuse_as(&other, T1, approve(id)).code(), "validation");
    // A second county principal approves as well as an auditor does.
    let mut w = registered();
    let id = w.run(T1, request("closed")).adjustments[0].adjustment_id;
    w.try_as(&other, T1, approve(id))
        .expect("another county principal");
}

/// Issue 30, finding 9: ids compared as strings let `County-1` or `county-1 ` approve
/// `county-1`'s own request (and its erasures). The same person in another case or with spaces
/// is still the requester.
#[test]
fn the_requester_under_another_case_or_with_spaces_is_still_the_requester() {
    let mut w = registered();
    let id = w.run(T1, request("items")).adjustments[0].adjustment_id;
    let me = county().id.0;
    for alias in [
        me.to_uppercase(),
        format!("{me} "),
        format!(" {}", me.to_uppercase()),
    ] {
        let twin = principal(&alias, Role::County, Some("county"));
        assert_eq!(
            w.refuse_as(&twin, T1, approve(id)).code(),
            "forbidden",
            "{alias:?}"
        );
    }
}

#[test]
fn only_the_county_requests_and_an_auditor_changes_nothing_else() {
    let mut w = registered();
    for who in [
        auditor(),
        principal("clerk-gaoqiao-1", Role::Clerk, Some("gaoqiao")),
        principal("analyst-1", Role::Analyst, None),
    ] {
        assert_eq!(w.refuse_as(&who, T1, request("items")).code(), "forbidden");
    }
    assert_eq!(w.refuse_as(&auditor(), T1, accept()).code(), "forbidden");
}

#[test]
fn a_figure_has_one_live_adjustment_and_a_revoked_one_makes_room() {
    let mut w = registered();
    let id = w.run(T1, request("closed")).adjustments[0].adjustment_id;
    assert_eq!(w.refuse(T1, request("closed")).code(), "validation");
    // `items` overlaps every figure, both ways.
    assert_eq!(w.refuse(T1, request("items")).code(), "validation");
    w.run(T1, request("satisfied"));
    let case = w
        .try_as(&auditor(), T1, revoke(id))
        .expect("revoked")
        .clone();
    let a = &case.adjustments[0];
    assert_eq!(a.status, AdjustmentStatus::Revoked);
    assert_eq!(a.revoked_by, Some(auditor().id));
    assert_eq!(a.revoke_reason.as_deref(), Some("复核认定属实"));
    assert_eq!(
        w.refuse(T1, revoke(id)).code(),
        "validation",
        "revoked once"
    );
    assert_eq!(
        w.refuse_as(&auditor(), T1, approve(id)).code(),
        "validation"
    );
    w.run(T1, request("closed"));
    assert_eq!(w.case().adjustments.len(), 3);
}

#[test]
fn an_unknown_measure_an_empty_reason_or_a_foreign_id_is_refused() {
    let mut w = registered();
    assert_eq!(w.refuse(T1, request("bogus")).code(), "validation");
    assert!(adjustable("open_overdue") && adjustable("items") && !adjustable("closure_rate"));
    let empty = Command::RequestAdjustment(RequestAdjustment {
        measure: "items".into(),
        reason: " ".into(),
        document_no: "X信联〔2026〕7号".into(),
    });
    assert_eq!(w.refuse(T1, empty).code(), "validation");
    let foreign = uuid::Uuid::from_u128(7);
    assert_eq!(
        w.refuse_as(&auditor(), T1, approve(foreign)).code(),
        "validation"
    );
}
