//! The pure half of the ingestor: an inbox message (subject, record id, body) read as a command,
//! or the reason why not, with no IO, so that it is property-tested over arbitrary input.

use std::collections::BTreeMap;

use serde_json::Value;

use commands::problem::Failure;
use domain::{Action, CaseId, DomainError, Principal};
use eventlog::inbox;

/// An inbox message read as a command, before anything is executed.
#[derive(Debug)]
pub struct Parsed {
    pub township: String,
    pub msg_id: String,
    pub principal: Principal,
    pub case_id: Option<CaseId>,
    pub command: domain::Command,
    /// The body as the idempotency record compares it.
    pub body: Value,
}

/// Why an inbox message is not a command; answered on `xf.outcome.<township>.<msg_id>`.
#[derive(Debug)]
pub struct Refusal {
    pub township: String,
    pub msg_id: String,
    pub error: Failure,
}

/// Read an inbox message (pure: no IO). `stream_township` is the township whose inbox stream
/// holds it, which is where its outcome goes even when the subject is malformed. A message without
/// a usable `Nats-Msg-Id` is answered under `seq-<inbox_seq>`.
pub fn parse_message(
    stream_township: &str,
    subject: &str,
    msg_id: Option<&str>,
    payload: &[u8],
    inbox_seq: u64,
    principals: &BTreeMap<String, Principal>,
) -> Result<Parsed, Refusal> {
    // The outcome goes to a township of this county: the subject's (the stream's, unless it is
    // the retired shared inbox), or the stream's when the subject names none.
    let named = eventlog::subjects::parse_inbox(subject);
    let (township, action) = match named {
        Some((t, a)) if principals.contains_key(t) => (t, Some(a)),
        _ => (stream_township, None),
    };
    let fallback_id = format!("seq-{inbox_seq}");
    let usable_id = msg_id.filter(|id| inbox::valid_msg_id(id));
    let refuse = |error: Failure| Refusal {
        township: township.to_owned(),
        msg_id: usable_id.map_or_else(|| fallback_id.clone(), str::to_owned),
        error,
    };
    let bad = |why: domain::Text| refuse(Failure::BadRequest(why));
    let Some(action) = action else {
        return Err(match named {
            Some((t, _)) => refuse(Failure::Domain(DomainError::Validation(domain::text!(
                "{t} is not a township of this county",
                "{t} 不是本县的乡镇"
            )))),
            None => {
                let form = eventlog::subjects::INBOX_FORM;
                bad(domain::text!(
                    "subject {subject} is not {form}",
                    "主题 {subject} 不符合 {form}"
                ))
            }
        });
    };
    let msg_id = match (msg_id, usable_id) {
        (_, Some(id)) => id.to_owned(),
        (Some(_), None) => {
            let h = eventlog::subjects::headers::MSG_ID;
            return Err(bad(domain::text!(
                "{h} (the township's record id) must match [A-Za-z0-9_-]{{1,128}}",
                "{h}（乡镇的记录编号）应为 1 至 128 个字符：A-Z、a-z、0-9、_ 或 -"
            )));
        }
        (None, None) => {
            let h = eventlog::subjects::headers::MSG_ID;
            return Err(bad(domain::text!(
                "{h} (the township's record id) is required",
                "{h}（乡镇的记录编号）必填"
            )));
        }
    };
    let Some(principal) = principals.get(township) else {
        return Err(refuse(Failure::Domain(DomainError::Validation(
            domain::text!(
                "{township} is not a township of this county",
                "{township} 不是本县的乡镇"
            ),
        ))));
    };
    // Adjustments (核减) are the county's, on HTTP only: no township asks for one.
    let Some(action) = Action::parse(action).filter(|a| !a.over_http_only()) else {
        return Err(bad(domain::text!(
            "unknown action {action:?}",
            "未知的操作 {action:?}"
        )));
    };
    let mut body = domain::command::decode_object(payload).map_err(|e| bad(e.0))?;
    let case_id = if action == Action::Register {
        match body.get("township").and_then(Value::as_str) {
            Some(t) if t != township => {
                return Err(refuse(Failure::Domain(DomainError::Forbidden(domain::text!(
                    "a message on {township}'s inbox registers for {township}, not another township",
                    "{township} 收件箱中的消息只能为 {township} 登记，不能为其他乡镇登记"
                )))))
            }
            _ => {
                body.insert("township".into(), Value::String(township.to_owned()));
            }
        }
        None
    } else {
        match body
            .remove("case_id")
            .as_ref()
            .and_then(Value::as_str)
            .and_then(CaseId::parse)
        {
            Some(id) => Some(id),
            None => {
                let a = action.as_str();
                return Err(bad(domain::text!(
                    "case_id: required for {a}, a case id (UUID)",
                    "case_id：{a} 必须提供案件 ID（UUID）"
                )));
            }
        }
    };
    let body = Value::Object(body);
    let command = action.from_json(body.clone()).map_err(|e| bad(e.0))?;
    Ok(Parsed {
        township: township.to_owned(),
        msg_id,
        principal: principal.clone(),
        case_id,
        command,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{PrincipalId, Role, UnitCode};
    use proptest::prelude::*;

    fn principals() -> BTreeMap<String, Principal> {
        ["gaoqiao", "dongcheng"]
            .into_iter()
            .map(|t| {
                let p = Principal {
                    id: PrincipalId(format!("system-{t}")),
                    role: Role::System,
                    unit: UnitCode::parse(t).ok(),
                };
                (t.to_owned(), p)
            })
            .collect()
    }

    fn subject() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(Action::ALL.to_vec())
                .prop_map(|a| eventlog::subjects::inbox("gaoqiao", a.as_str())),
            "xf\\.inbox\\.[a-z]{0,8}(\\.[a-z-]{0,10}){0,3}",
            ".{0,40}",
        ]
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        let json = prop_oneof![
            Just(serde_json::json!({})),
            Just(serde_json::json!({"case_id": "0192f0a0-0000-7000-8000-0000deadbeef"})),
            Just(serde_json::json!({"township": "dongcheng", "channel": "visit"})),
            any::<i64>().prop_map(|n| serde_json::json!({"case_id": n, "headcount": n})),
            ".{0,30}".prop_map(|s| serde_json::json!({"case_id": s, "occurred_at": s})),
        ]
        .prop_map(|v| v.to_string().into_bytes());
        prop_oneof![json, prop::collection::vec(any::<u8>(), 0..200)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever subject, record id and body arrive, the parser answers (never panics), and
        /// a refusal is addressed to a township under a record id usable as a subject token, so
        /// it can always be published where the township reads.
        #[test]
        fn every_message_is_parsed_or_refused_with_an_address(
            subject in subject(),
            msg_id in proptest::option::of(".{0,20}|[A-Za-z0-9_-]{1,20}"),
            payload in body(),
            seq in any::<u64>(),
        ) {
            match parse_message("gaoqiao", &subject, msg_id.as_deref(), &payload, seq, &principals()) {
                Ok(p) => {
                    prop_assert!(principals().contains_key(&p.township));
                    prop_assert_eq!(Some(p.msg_id.as_str()), msg_id.as_deref());
                    prop_assert_eq!(p.case_id.is_none(), p.command.action() == Action::Register);
                    prop_assert!(!p.command.action().over_http_only(), "a township asked for an HTTP-only step");
                }
                Err(r) => {
                    prop_assert!(inbox::valid_msg_id(&r.msg_id), "{:?}", r.msg_id);
                    let problem = r.error.problem();
                    prop_assert!(problem.status >= 400 && problem.status < 500, "{problem:?}");
                    prop_assert!(!r.township.is_empty() && !r.township.contains(['*', '>', ' ']));
                }
            }
        }
    }
}
