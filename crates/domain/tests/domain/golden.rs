//! Golden files pin the stored JSON of every event type: an event's JSON is a permanent contract.
//! A change that alters a file here breaks old data; bump the schema version and add an upcaster
//! instead. Regenerate (only for a *new* event type) with `XF_BLESS=1 cargo test -p xinfang-domain`.

use std::path::PathBuf;

use crate::common::*;
use domain::event::*;
use domain::*;

pub(crate) fn samples() -> Vec<Event> {
    let t = ts("2026-03-02T09:30:00+08:00");
    let cmd = register_cmd("2026-03-02T09:30:00+08:00");
    vec![
        Event::CaseRegistered(CaseRegistered {
            acknowledge_due_at: None,
            acknowledged: false,
            case_no: "GAOQIAO-20260302-deadbeef".into(),
            township: unit("gaoqiao"),
            channel: cmd.channel,
            received_at: t,
            headcount: 6,
            level_reached: Level::County,
            category: Category::Land,
            summary: cmd.summary,
            petitioners: cmd.petitioners,
            related_case_id: None,
            accusation: false,
            confidential: false,
            flags: Flags {
                collective: true,
                cross_level: true,
                repeat: false,
            },
            leader_reception: false,
            first_petition: false,
            accused_unit: None,
            held_by: None,
            accept_due_at: ts("2026-03-17T23:59:59+08:00"),
            // Pinned as events before issue 35 stored it (absent).
            repeat_rank: 0,
        }),
        Event::CaseAccepted(CaseAccepted {
            new_facts: None,
            reply_due_at: ts("2026-05-01T23:59:59+08:00"),
            on_time: true,
        }),
        Event::CaseRejected(CaseRejected {
            reason_code: RejectReason::Litigation,
            reason: "belongs to the courts".into(),
            on_time: true,
        }),
        Event::CaseAssigned(CaseAssigned {
            acknowledge_due_at: None,
            acknowledged: false,
            unit: unit("land_bureau"),
            from_unit: unit("gaoqiao"),
            due_at: Some(ts("2026-03-20T23:59:59+08:00")),
            note: Some("urgent".into()),
        }),
        Event::CaseTransferred(CaseTransferred {
            acknowledge_due_at: None,
            acknowledged: false,
            unit: unit("dongcheng"),
            from_unit: unit("land_bureau"),
            reason: "the land lies in dongcheng".into(),
            bounced: false,
        }),
        Event::CaseAcknowledged(CaseAcknowledged {
            unit: unit("dongcheng"),
            on_time: true,
        }),
        Event::CaseReminded(CaseReminded {
            unit: unit("dongcheng"),
            note: "请于本周内答复".into(),
        }),
        Event::CaseReopened(CaseReopened {
            reason: "信访人对答复不满意，所反映的补偿标准未予说明".into(),
            unit: unit("dongcheng"),
            from_unit: unit("dongcheng"),
            reply_due_at: ts("2026-05-31T23:59:59+08:00"),
            acknowledge_due_at: Some(ts("2026-05-02T10:00:00+08:00")),
            acknowledged: false,
        }),
        Event::QueryCodeReissued(QueryCodeReissued { seq: 1 }),
        Event::DocumentIssued(DocumentIssued {
            kind: DocumentKind::AcceptanceNotice,
            step_seq: 2,
            document_no: "高桥镇〔2026〕1号".into(),
            unit: unit("gaoqiao"),
        }),
        Event::CaseSupervised(CaseSupervised {
            unit: unit("dongcheng"),
            note: "please hurry".into(),
            due_at: None,
        }),
        Event::DeadlineExtended(DeadlineExtended {
            days: 30,
            reason: "site survey".into(),
            approved_by: "director wang".into(),
            due_at: ts("2026-05-31T23:59:59+08:00"),
        }),
        Event::CaseReplied(CaseReplied {
            unit: unit("dongcheng"),
            outcome: Outcome::Supported,
            text: "compensation will be paid".into(),
            on_time: true,
            review_request_until: ts("2026-05-10T23:59:59+08:00"),
        }),
        Event::FollowUpRecorded(FollowUpRecorded {
            satisfaction: Satisfaction::BasicallySatisfied,
            note: None,
        }),
        Event::CaseClosed(CaseClosed {
            note: Some("done".into()),
        }),
        Event::ReviewRequested(ReviewRequested {
            level: 1,
            reason: "amount too low".into(),
            decision_due_at: ts("2026-06-01T23:59:59+08:00"),
        }),
        Event::ReviewDecided(ReviewDecided {
            level: 1,
            outcome: Outcome::NotSupported,
            text: "original decision upheld".into(),
            on_time: true,
            rereview_request_until: Some(ts("2026-06-30T23:59:59+08:00")),
        }),
        Event::CaseMerged(CaseMerged {
            into: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            into_case_no: "XIAHE-2026-000007".into(),
            reason: "一信多投: the same matter as XIAHE-2026-000007".into(),
        }),
        Event::LeaderAssigned(LeaderAssigned {
            name: "王建华".into(),
            title: "副县长".into(),
        }),
        Event::RegistrationCorrected(RegistrationCorrected {
            reason: "人数登记错误".into(),
            before: command::RegistrationFacts {
                headcount: Some(6),
                petitioners: Some(register_cmd("2026-03-02T09:30:00+08:00").petitioners),
                ..Default::default()
            },
            after: command::RegistrationFacts {
                headcount: Some(3),
                petitioners: Some(vec![command::Petitioner {
                    name: "李四".into(),
                    id_number: None,
                    phone: Some("13900000000".into()),
                    address: None,
                }]),
                ..Default::default()
            },
            flags: Flags {
                collective: false,
                cross_level: true,
                repeat: false,
            },
            first_petition: true,
            accept_due_at: ts("2026-03-17T23:59:59+08:00"),
            unit: None,
            repeat_rank: 0,
        }),
        Event::ResolutionPlanned(ResolutionPlanned {
            plan: "县信访局牵头，会同人社局约谈欠薪企业，分期清偿".into(),
            leader: Some("王建华".into()),
            target_date: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("date"),
        }),
        Event::CaseWithdrawn(CaseWithdrawn {
            reason: "信访人撤回".into(),
        }),
        Event::AttachmentAdded(AttachmentAdded {
            attachment_id: uuid::Uuid::from_u128(0x1d5a_7f00_2b3c_8e4d_9a1b_0c2d_3e4f_5a6b),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            size: 182_344,
            content_type: "application/pdf".into(),
            filename: "张三来信扫描件.pdf".into(),
        }),
        Event::AdjustmentRequested(AdjustmentRequested {
            adjustment_id: uuid::Uuid::from_u128(0x6f1c_2a9e_0d4b_8a37_9e21_5b7c_3d2e_1f00),
            measure: "open_overdue".into(),
            reason: "逾期系上级交办材料未到，经县联席会议认定不计入".into(),
            document_no: "X信联〔2026〕7号".into(),
            requested_by: PrincipalId("county:zhou".into()),
        }),
        Event::AdjustmentApproved(AdjustmentApproved {
            adjustment_id: uuid::Uuid::from_u128(0x6f1c_2a9e_0d4b_8a37_9e21_5b7c_3d2e_1f00),
            measure: "open_overdue".into(),
            approved_by: PrincipalId("auditor:li".into()),
        }),
        Event::AdjustmentRevoked(AdjustmentRevoked {
            adjustment_id: uuid::Uuid::from_u128(0x6f1c_2a9e_0d4b_8a37_9e21_5b7c_3d2e_1f00),
            measure: "open_overdue".into(),
            reason: "复核认定逾期属实".into(),
            revoked_by: PrincipalId("county:wang".into()),
        }),
        Event::PersonalDataErasureRequested(PersonalDataErasureRequested {
            erasure_id: uuid::Uuid::from_u128(0x7a2d_3b8f_1e5c_9b48_0f32_6c8d_4e3f_2a10),
            reason: "信访人依法申请删除个人信息".into(),
            request_ref: "删除申请〔2026〕3号".into(),
            requested_by: PrincipalId("county:wang".into()),
        }),
        Event::PersonalDataErased(PersonalDataErased {
            erasure_id: uuid::Uuid::from_u128(0x7a2d_3b8f_1e5c_9b48_0f32_6c8d_4e3f_2a10),
            reason: "信访人依法申请删除个人信息".into(),
            request_ref: "删除申请〔2026〕3号".into(),
            requested_by: PrincipalId("county:wang".into()),
            approved_by: PrincipalId("auditor:zhao".into()),
        }),
        Event::AlertReviewed(AlertReviewed {
            kind: domain::alerts::AlertKind::CollectiveRepeat,
            category: Category::Land,
            assessment: "征地补偿分歧未解决，月内可能再次集体访".into(),
            plan: "镇长包案，五日内入户见面，十日内提出补偿方案".into(),
        }),
    ]
}

#[test]
fn every_event_type_has_a_golden_file_that_still_reads_and_writes_the_same() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let samples = samples();
    let mut names: Vec<&str> = samples.iter().map(Event::type_name).collect();
    names.sort_unstable();
    let mut all = Event::TYPES.to_vec();
    all.sort_unstable();
    assert_eq!(names, all, "one sample per event type");
    for event in samples {
        let path = dir.join(format!(
            "{}.v{}.json",
            event.type_name(),
            Event::SCHEMA_VERSION
        ));
        let json = serde_json::to_string_pretty(&event).expect("serialize") + "\n";
        if std::env::var_os("XF_BLESS").is_some() && !path.exists() {
            std::fs::write(&path, &json).expect("write golden");
        }
        let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (new event type? run with XF_BLESS=1)",
                path.display()
            )
        });
        assert_eq!(json, golden, "{} changed its stored form", path.display());
        let read: Event = serde_json::from_str(&golden).expect("golden file reads");
        assert_eq!(read, event);
    }
}
