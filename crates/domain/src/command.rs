//! Commands: what a principal asks the system to do. The bodies are exactly the HTTP and NATS
//! inbox bodies of the contract (api-contract.md); unknown fields are refused so that a misspelt
//! optional field (`occured_at`) is an error, not a silent default.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{CaseId, UnitCode};
use crate::policy::Timestamp;
use crate::values::{Category, Channel, Level, Outcome, RejectReason, Satisfaction};

/// Personal data of one petitioner. Visible only to entitled roles (see `auth`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Petitioner {
    pub name: String,
    /// Resident ID number (GB 11643-1999): 17 digits with a valid birth date, then the check
    /// digit (0-9 or X). A registration keeps it with a capital X (registrations recorded before
    /// this check keep what was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "cn-resident-id")]
    pub id_number: Option<String>,
    /// A mainland mobile number (optionally +86) or a landline with its area code; spaces,
    /// hyphens and parentheses are allowed. A registration keeps it as digits (a landline as
    /// `0AAA-NNNNNNNN`; registrations recorded before this check keep what was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "cn-phone")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// `POST /v1/cases`: register a petition (登记).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterCase {
    pub township: UnitCode,
    pub channel: Channel,
    /// Business time of the registration.
    #[serde(deserialize_with = "crate::dates::time")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    #[serde(deserialize_with = "crate::dates::whole_u32")]
    pub headcount: u32,
    pub level_reached: Level,
    pub category: Category,
    pub summary: String,
    pub petitioners: Vec<Petitioner>,
    #[serde(default)]
    pub related_case_id: Option<CaseId>,
    #[serde(default)]
    pub accusation: bool,
    #[serde(default)]
    pub confidential: bool,
    /// 领导接访: received on a leader reception day (a flag beside the channel; a registration
    /// on the channel `leader_reception` is one too).
    #[serde(default)]
    pub leader_reception: bool,
}

/// Every command on an existing case may carry `occurred_at`; its absence means "now".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptCase {
    /// Required when the case repeats a terminated matter (条例 35): the new facts and reasons
    /// that make it a new matter.
    #[serde(default)]
    pub new_facts: Option<String>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectCase {
    pub reason_code: RejectReason,
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignCase {
    pub unit: UnitCode,
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferCase {
    pub unit: UnitCode,
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseCase {
    pub note: String,
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendDeadline {
    #[serde(deserialize_with = "crate::dates::whole_u32")]
    pub days: u32,
    pub reason: String,
    pub approved_by: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyCase {
    pub outcome: Outcome,
    pub text: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFollowUp {
    pub satisfaction: Satisfaction,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseCase {
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

/// `request-review` and `request-rereview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReview {
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

/// `decide-review` and `decide-rereview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideReview {
    pub outcome: Outcome,
    pub text: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

/// `assign-leader` (county): a named leader answers for the case until it is closed (领导包案).
/// The leader is a person, not necessarily a principal of the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignLeader {
    pub name: String,
    pub title: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

/// `merge` (county): the case is the same matter as `into` (一信多投) and is merged into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeCase {
    pub into: CaseId,
    pub reason: String,
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

/// Every command, as decided by [`crate::decide`].
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Register(RegisterCase),
    Accept(AcceptCase),
    Reject(RejectCase),
    Assign(AssignCase),
    Transfer(TransferCase),
    Supervise(SuperviseCase),
    Extend(ExtendDeadline),
    Reply(ReplyCase),
    FollowUp(RecordFollowUp),
    Close(CloseCase),
    RequestReview(RequestReview),
    DecideReview(DecideReview),
    RequestRereview(RequestReview),
    DecideRereview(DecideReview),
    Merge(MergeCase),
    AssignLeader(AssignLeader),
}

/// The action names of the contract, used in URLs (`/v1/cases/{id}/{action}`) and inbox subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Register,
    Accept,
    Reject,
    Assign,
    Transfer,
    Supervise,
    Extend,
    Reply,
    FollowUp,
    Close,
    RequestReview,
    DecideReview,
    RequestRereview,
    DecideRereview,
    Merge,
    AssignLeader,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::Register,
        Action::Accept,
        Action::Reject,
        Action::Assign,
        Action::Transfer,
        Action::Supervise,
        Action::Extend,
        Action::Reply,
        Action::FollowUp,
        Action::Close,
        Action::RequestReview,
        Action::DecideReview,
        Action::RequestRereview,
        Action::DecideRereview,
        Action::Merge,
        Action::AssignLeader,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Assign => "assign",
            Action::Transfer => "transfer",
            Action::Supervise => "supervise",
            Action::Extend => "extend",
            Action::Reply => "reply",
            Action::FollowUp => "follow-up",
            Action::Close => "close",
            Action::RequestReview => "request-review",
            Action::DecideReview => "decide-review",
            Action::RequestRereview => "request-rereview",
            Action::DecideRereview => "decide-rereview",
            Action::Merge => "merge",
            Action::AssignLeader => "assign-leader",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Read a body as this action's command: the typed command and the body as JSON (what an
    /// idempotency key is checked against). An empty body is `{}`.
    pub fn decode(self, body: &[u8]) -> Result<(Command, serde_json::Value), BodyError> {
        let json = serde_json::Value::Object(decode_object(body)?);
        let command = self.from_json(json.clone())?;
        Ok((command, json))
    }

    /// Read a JSON object as this action's command. The error names the field (`petitioners[0].phone`)
    /// and the problem, never the value.
    pub fn from_json(self, json: serde_json::Value) -> Result<Command, BodyError> {
        fn p<T: serde::de::DeserializeOwned>(
            action: Action,
            v: serde_json::Value,
        ) -> Result<T, BodyError> {
            serde_path_to_error::deserialize(v).map_err(|e| {
                let path = e.path().to_string();
                let what = redact(&e.inner().to_string());
                BodyError(if path == "." {
                    format!("invalid {} body: {what}", action.as_str())
                } else {
                    format!("invalid {} body: {path}: {what}", action.as_str())
                })
            })
        }
        let a = self;
        Ok(match self {
            Action::Register => {
                let mut register: RegisterCase = p(a, json)?;
                normalize_petitioners(&mut register.petitioners)?;
                Command::Register(register)
            }
            Action::Accept => Command::Accept(p(a, json)?),
            Action::Reject => Command::Reject(p(a, json)?),
            Action::Assign => Command::Assign(p(a, json)?),
            Action::Transfer => Command::Transfer(p(a, json)?),
            Action::Supervise => Command::Supervise(p(a, json)?),
            Action::Extend => Command::Extend(p(a, json)?),
            Action::Reply => Command::Reply(p(a, json)?),
            Action::FollowUp => Command::FollowUp(p(a, json)?),
            Action::Close => Command::Close(p(a, json)?),
            Action::RequestReview => Command::RequestReview(p(a, json)?),
            Action::DecideReview => Command::DecideReview(p(a, json)?),
            Action::RequestRereview => Command::RequestRereview(p(a, json)?),
            Action::DecideRereview => Command::DecideRereview(p(a, json)?),
            Action::Merge => Command::Merge(p(a, json)?),
            Action::AssignLeader => Command::AssignLeader(p(a, json)?),
        })
    }
}

/// Petitioners' ID numbers and phones checked and in their normal form (`identity`), so that one
/// person's registrations carry the same identifiers. The error names the field, never the value.
fn normalize_petitioners(petitioners: &mut [Petitioner]) -> Result<(), BodyError> {
    use crate::identity::{normalize_id_number, normalize_phone};
    let bad = |i: usize, field: &str, why: &str| {
        BodyError(format!(
            "invalid register body: petitioners[{i}].{field}: {why}"
        ))
    };
    for (i, p) in petitioners.iter_mut().enumerate() {
        if let Some(id) = &p.id_number {
            p.id_number = Some(normalize_id_number(id).map_err(|why| bad(i, "id_number", why))?);
        }
        if let Some(phone) = &p.phone {
            p.phone = Some(normalize_phone(phone).map_err(|why| bad(i, "phone", why))?);
        }
    }
    Ok(())
}

/// Why a body is not a command (`validation`, 400). Its text names fields and problems and never
/// repeats a value of the body: any value may be personal data (a phone number sent as a number
/// would otherwise come back in the error, and be kept with a township's outcome).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BodyError(pub String);

/// A body as a JSON object; an empty body (or only white space) is `{}`.
pub fn decode_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, BodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(BodyError("the body must be a JSON object".into())),
        Err(e) => Err(BodyError(format!(
            "malformed JSON: {}",
            redact(&e.to_string())
        ))),
    }
}

/// Remove the values serde quotes in an error message (`invalid type: integer `13800000000``,
/// `unit code "…" must match`), keeping field names and what was expected.
pub fn redact(msg: &str) -> String {
    const NAMES_A_FIELD: [&str; 3] = ["missing field", "unknown field", "duplicate field"];
    if NAMES_A_FIELD.iter().any(|p| msg.starts_with(p)) {
        return msg.to_owned();
    }
    let (head, tail) = msg.split_at(msg.find(", expected").unwrap_or(msg.len()));
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in head.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '`' || c == '"' => quote = Some(c),
            None => out.push(c),
        }
    }
    let head = out.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{head}{tail}")
}

impl Command {
    /// The JSON body of this command, as the HTTP API and the township inbox take it.
    pub fn body(&self) -> serde_json::Value {
        let v = match self {
            Command::Register(c) => serde_json::to_value(c),
            Command::Accept(c) => serde_json::to_value(c),
            Command::Reject(c) => serde_json::to_value(c),
            Command::Assign(c) => serde_json::to_value(c),
            Command::Transfer(c) => serde_json::to_value(c),
            Command::Supervise(c) => serde_json::to_value(c),
            Command::Extend(c) => serde_json::to_value(c),
            Command::Reply(c) => serde_json::to_value(c),
            Command::FollowUp(c) => serde_json::to_value(c),
            Command::Close(c) => serde_json::to_value(c),
            Command::RequestReview(c) | Command::RequestRereview(c) => serde_json::to_value(c),
            Command::DecideReview(c) | Command::DecideRereview(c) => serde_json::to_value(c),
            Command::Merge(c) => serde_json::to_value(c),
            Command::AssignLeader(c) => serde_json::to_value(c),
        };
        // Serializing these plain structs cannot fail.
        v.unwrap_or_default()
    }

    pub fn action(&self) -> Action {
        match self {
            Command::Register(_) => Action::Register,
            Command::Accept(_) => Action::Accept,
            Command::Reject(_) => Action::Reject,
            Command::Assign(_) => Action::Assign,
            Command::Transfer(_) => Action::Transfer,
            Command::Supervise(_) => Action::Supervise,
            Command::Extend(_) => Action::Extend,
            Command::Reply(_) => Action::Reply,
            Command::FollowUp(_) => Action::FollowUp,
            Command::Close(_) => Action::Close,
            Command::RequestReview(_) => Action::RequestReview,
            Command::DecideReview(_) => Action::DecideReview,
            Command::RequestRereview(_) => Action::RequestRereview,
            Command::DecideRereview(_) => Action::DecideRereview,
            Command::Merge(_) => Action::Merge,
            Command::AssignLeader(_) => Action::AssignLeader,
        }
    }

    /// The business time the command asks for; for a registration that is `received_at`.
    pub fn occurred_at(&self) -> Option<Timestamp> {
        match self {
            Command::Register(c) => Some(c.received_at),
            Command::Accept(c) => c.occurred_at,
            Command::Reject(c) => c.occurred_at,
            Command::Assign(c) => c.occurred_at,
            Command::Transfer(c) => c.occurred_at,
            Command::Supervise(c) => c.occurred_at,
            Command::Extend(c) => c.occurred_at,
            Command::Reply(c) => c.occurred_at,
            Command::FollowUp(c) => c.occurred_at,
            Command::Close(c) => c.occurred_at,
            Command::RequestReview(c) | Command::RequestRereview(c) => c.occurred_at,
            Command::DecideReview(c) | Command::DecideRereview(c) => c.occurred_at,
            Command::Merge(c) => c.occurred_at,
            Command::AssignLeader(c) => c.occurred_at,
        }
    }
}
