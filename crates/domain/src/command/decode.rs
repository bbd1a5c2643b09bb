//! Reading a command from a body (HTTP or a township's inbox message): the typed command, or an
//! error that names the field and what was expected, never a value.

use super::*;

impl Action {
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
        fn p<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, BodyError> {
            serde_path_to_error::deserialize(v).map_err(|e| {
                BodyError(crate::text::field_error(
                    &e.path().to_string(),
                    &e.inner().to_string(),
                ))
            })
        }
        Ok(match self {
            Action::Register => {
                let mut register: RegisterCase = p(json)?;
                normalize_petitioners("petitioners", &mut register.petitioners)?;
                Command::Register(register)
            }
            Action::Acknowledge => Command::Acknowledge(p(json)?),
            Action::Remind => Command::Remind(p(json)?),
            Action::Reopen => Command::Reopen(p(json)?),
            Action::ReissueQueryCode => Command::ReissueQueryCode(p(json)?),
            Action::IssueDocument => Command::IssueDocument(p(json)?),
            Action::Accept => Command::Accept(p(json)?),
            Action::Reject => Command::Reject(p(json)?),
            Action::Assign => Command::Assign(p(json)?),
            Action::Transfer => Command::Transfer(p(json)?),
            Action::Supervise => Command::Supervise(p(json)?),
            Action::Extend => Command::Extend(p(json)?),
            Action::Reply => Command::Reply(p(json)?),
            Action::FollowUp => Command::FollowUp(p(json)?),
            Action::Close => Command::Close(p(json)?),
            Action::RequestReview => Command::RequestReview(p(json)?),
            Action::DecideReview => Command::DecideReview(p(json)?),
            Action::RequestRereview => Command::RequestRereview(p(json)?),
            Action::DecideRereview => Command::DecideRereview(p(json)?),
            Action::Merge => Command::Merge(p(json)?),
            Action::AssignLeader => Command::AssignLeader(p(json)?),
            Action::ResolutionPlan => Command::PlanResolution(p(json)?),
            Action::Correct => {
                let mut correct: CorrectRegistration = p(json)?;
                if let Some(petitioners) = &mut correct.changes.petitioners {
                    normalize_petitioners("changes.petitioners", petitioners)?;
                }
                Command::Correct(correct)
            }
            Action::Withdraw => Command::Withdraw(p(json)?),
            Action::Attach => Command::Attach(p(json)?),
            Action::RequestAdjustment => Command::RequestAdjustment(p(json)?),
            Action::ApproveAdjustment => Command::ApproveAdjustment(p(json)?),
            Action::RevokeAdjustment => Command::RevokeAdjustment(p(json)?),
            Action::RequestErasure => Command::RequestErasure(p(json)?),
            Action::ApproveErasure => Command::ApproveErasure(p(json)?),
        })
    }
}

/// Petitioners' ID numbers and phones checked and in their normal form (`identity`), so that one
/// person's registrations carry the same identifiers. The error names the field, never the value.
fn normalize_petitioners(path: &str, petitioners: &mut [Petitioner]) -> Result<(), BodyError> {
    use crate::identity::{normalize_id_number, normalize_phone};
    let bad = |i: usize, field: &str, why: &str| {
        BodyError(crate::text::field_error(
            &format!("{path}[{i}].{field}"),
            why,
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
pub struct BodyError(pub crate::Text);

/// A body as a JSON object; an empty body (or only white space) is `{}`.
pub fn decode_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, BodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(BodyError(crate::text!(
            "the body must be a JSON object",
            "请求体必须是 JSON 对象"
        ))),
        Err(e) => Err(BodyError(crate::text::malformed_json(&e.to_string()))),
    }
}
