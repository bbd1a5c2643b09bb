//! Every wire type's JSON Schema gathered from the Rust types, for the files under `proto/` and
//! the AsyncAPI document alike.

use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use domain::command::*;

/// Schemas gathered by name (a type's own and those it references).
pub(crate) type Collected = Vec<(String, RefOr<Schema>)>;

/// Gather `T`'s schema and those it references; returns `T`'s name.
pub(crate) fn collect<T: ToSchema>(all: &mut Collected) -> String {
    let name = T::name().to_string();
    all.push((name.clone(), <T as PartialSchema>::schema()));
    T::schemas(all);
    name
}

/// Every command body's schema, collected (for `proto/` and the AsyncAPI document alike).
pub(crate) const COMMANDS: [fn(&mut Collected) -> String; 28] = [
    collect::<RegisterCase>,
    collect::<AcknowledgeCase>,
    collect::<RemindCase>,
    collect::<ReopenCase>,
    collect::<ReissueQueryCode>,
    collect::<IssueDocument>,
    collect::<AcceptCase>,
    collect::<RejectCase>,
    collect::<AssignCase>,
    collect::<TransferCase>,
    collect::<SuperviseCase>,
    collect::<ExtendDeadline>,
    collect::<ReplyCase>,
    collect::<RecordFollowUp>,
    collect::<CloseCase>,
    collect::<RequestReview>,
    collect::<DecideReview>,
    collect::<MergeCase>,
    collect::<AssignLeader>,
    collect::<PlanResolution>,
    collect::<CorrectRegistration>,
    collect::<WithdrawCase>,
    collect::<AddAttachment>,
    collect::<RequestAdjustment>,
    collect::<ApproveAdjustment>,
    collect::<RevokeAdjustment>,
    collect::<RequestErasure>,
    collect::<ApproveErasure>,
];
