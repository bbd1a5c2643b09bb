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

vocabulary!(
    /// A document a bureau prints and files for a step of a case (`GET
    /// /v1/cases/{id}/documents/{kind}`).
    DocumentKind {
        AcceptanceNotice = "acceptance_notice",
        RejectionNotice = "rejection_notice",
        TransferNotice = "transfer_notice",
        AssignmentSlip = "assignment_slip",
        SupervisionLetter = "supervision_letter",
        ReplyOpinion = "reply_opinion",
    }
);

impl DocumentKind {
    pub fn name_zh(self) -> &'static str {
        match self {
            DocumentKind::AcceptanceNotice => "受理告知书",
            DocumentKind::RejectionNotice => "不予受理告知书",
            DocumentKind::TransferNotice => "转送告知书",
            DocumentKind::AssignmentSlip => "交办单",
            DocumentKind::SupervisionLetter => "督办函",
            DocumentKind::ReplyOpinion => "答复意见书",
        }
    }

    /// The event type of the step the document is for.
    pub fn step_type(self) -> &'static str {
        match self {
            DocumentKind::AcceptanceNotice => "CaseAccepted",
            DocumentKind::RejectionNotice => "CaseRejected",
            DocumentKind::TransferNotice => "CaseTransferred",
            DocumentKind::AssignmentSlip => "CaseAssigned",
            DocumentKind::SupervisionLetter => "CaseSupervised",
            DocumentKind::ReplyOpinion => "CaseReplied",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl Category {
    /// The category in Chinese, as documents state it.
    pub fn name_zh(self) -> &'static str {
        match self {
            Category::Land => "土地",
            Category::Wages => "劳资欠薪",
            Category::Demolition => "征收拆迁",
            Category::SocialSecurity => "社会保障",
            Category::UrbanManagement => "城市管理",
            Category::Environment => "生态环境",
            Category::Other => "其他",
        }
    }
}

impl RejectReason {
    pub fn name_zh(self) -> &'static str {
        match self {
            RejectReason::Litigation => "属诉讼事项",
            RejectReason::InProgressElsewhere => "已在其他机关办理",
            RejectReason::TerminatedSameMatter => "同一事项已终结",
            RejectReason::OutOfScope => "不属于信访事项",
            RejectReason::Other => "其他",
        }
    }
}

impl Outcome {
    pub fn name_zh(self) -> &'static str {
        match self {
            Outcome::Supported => "支持",
            Outcome::Explained => "解释说明",
            Outcome::NotSupported => "不支持",
        }
    }
}
