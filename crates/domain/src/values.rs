//! The closed vocabularies of the domain. Every stored name is fixed with `rename` so that a Rust
//! rename never changes what is on disk.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        // Written out rather than derived: the derive does not see the `rename` of a variant
        // made by this macro, and the OpenAPI document listed `Land` where the API takes `land`.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// How a petition reached the system.
    Channel {
        Letter = "letter",
        Visit = "visit",
        Phone = "phone",
        Online = "online",
        Hotline12345 = "hotline_12345",
        Mailbox = "mailbox",
        LeaderReception = "leader_reception",
    }
);

impl Channel {
    /// Visits (including leader reception days) count their headcount as persons and form a batch per
    /// group; every other channel counts one batch and one person per item (docs/rules.md, "Counting").
    pub fn is_visit(self) -> bool {
        matches!(self, Channel::Visit | Channel::LeaderReception)
    }
}

vocabulary!(
    /// The highest level the petitioner has taken the matter to. Ordered lowest first.
    Level {
        Village = "village",
        Township = "township",
        County = "county",
        City = "city",
        Province = "province",
        National = "national",
    }
);

vocabulary!(
    /// Subject category.
    Category {
        Land = "land",
        Wages = "wages",
        Demolition = "demolition",
        SocialSecurity = "social_security",
        UrbanManagement = "urban_management",
        Environment = "environment",
        Other = "other",
    }
);

vocabulary!(
    /// Outcome of a reply or a review decision.
    Outcome {
        Supported = "supported",
        Explained = "explained",
        NotSupported = "not_supported",
    }
);

vocabulary!(
    /// Result of a follow-up call (回访).
    Satisfaction {
        Satisfied = "satisfied",
        BasicallySatisfied = "basically_satisfied",
        Dissatisfied = "dissatisfied",
        Unreachable = "unreachable",
    }
);

vocabulary!(
    /// Why a petition is not accepted.
    RejectReason {
        Litigation = "litigation",
        InProgressElsewhere = "in_progress_elsewhere",
        TerminatedSameMatter = "terminated_same_matter",
        OutOfScope = "out_of_scope",
        Other = "other",
    }
);

vocabulary!(
    /// Kind of organisational unit.
    UnitKind {
        Township = "township",
        Department = "department",
        County = "county",
    }
);

vocabulary!(
    /// What a principal may do (docs/contract.md, "Configuration").
    Role {
        Clerk = "clerk",
        Handler = "handler",
        County = "county",
        Auditor = "auditor",
        Analyst = "analyst",
        System = "system",
    }
);

vocabulary!(
    /// Status of a case (docs/contract.md, "Vocabularies").
    Status {
        Registered = "registered",
        Accepted = "accepted",
        Rejected = "rejected",
        Assigned = "assigned",
        Replied = "replied",
        Closed = "closed",
        UnderReview = "under_review",
        UnderRereview = "under_rereview",
        Terminated = "terminated",
        Merged = "merged",
        Withdrawn = "withdrawn",
    }
);

vocabulary!(
    /// Where a case stands in its lifecycle (docs/contract.md, "Vocabularies"): what kind of
    /// work it waits for.
    Stage {
        Acceptance = "acceptance",
        Handling = "handling",
        AwaitingClose = "awaiting_close",
        Review = "review",
        Done = "done",
    }
);

impl Status {
    /// Open cases still need work from some unit. A closed case may still be reviewed, but nobody
    /// owes it anything until the petitioner asks.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Registered
                | Status::Accepted
                | Status::Assigned
                | Status::Replied
                | Status::UnderReview
                | Status::UnderRereview
        )
    }

    /// The name a petitioner reads (Simplified Chinese).
    pub fn name_zh(self) -> &'static str {
        match self {
            Status::Registered => "已登记",
            Status::Accepted => "已受理",
            Status::Rejected => "不予受理",
            Status::Assigned => "已交办",
            Status::Replied => "已答复",
            Status::Closed => "已办结",
            Status::UnderReview => "复查中",
            Status::UnderRereview => "复核中",
            Status::Terminated => "已终结",
            Status::Merged => "已合并办理",
            Status::Withdrawn => "已撤回",
        }
    }

    /// The stage of a case in this status.
    pub fn stage(self) -> Stage {
        match self {
            Status::Registered => Stage::Acceptance,
            Status::Accepted | Status::Assigned => Stage::Handling,
            Status::Replied => Stage::AwaitingClose,
            Status::UnderReview | Status::UnderRereview => Stage::Review,
            Status::Rejected
            | Status::Closed
            | Status::Terminated
            | Status::Merged
            | Status::Withdrawn => Stage::Done,
        }
    }
}
