//! The actions of the contract: their names in URLs and inbox subjects, and in Chinese.

/// The action names of the contract, used in URLs (`/v1/cases/{id}/{action}`) and inbox subjects.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Register,
    Acknowledge,
    Accept,
    Reject,
    Assign,
    Transfer,
    Supervise,
    Remind,
    Extend,
    Reply,
    FollowUp,
    Reopen,
    Close,
    RequestReview,
    DecideReview,
    RequestRereview,
    DecideRereview,
    Merge,
    AssignLeader,
    ResolutionPlan,
    Correct,
    Withdraw,
    Attach,
    ReissueQueryCode,
    IssueDocument,
    RequestAdjustment,
    ApproveAdjustment,
    RevokeAdjustment,
    #[serde(rename = "erase-personal-data")]
    RequestErasure,
    ApproveErasure,
}

impl Action {
    pub const ALL: [Action; 30] = [
        Action::Register,
        Action::Acknowledge,
        Action::Accept,
        Action::Reject,
        Action::Assign,
        Action::Transfer,
        Action::Supervise,
        Action::Remind,
        Action::Extend,
        Action::Reply,
        Action::FollowUp,
        Action::Reopen,
        Action::Close,
        Action::RequestReview,
        Action::DecideReview,
        Action::RequestRereview,
        Action::DecideRereview,
        Action::Merge,
        Action::AssignLeader,
        Action::ResolutionPlan,
        Action::Correct,
        Action::Withdraw,
        Action::Attach,
        Action::ReissueQueryCode,
        Action::IssueDocument,
        Action::RequestAdjustment,
        Action::ApproveAdjustment,
        Action::RevokeAdjustment,
        Action::RequestErasure,
        Action::ApproveErasure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Acknowledge => "acknowledge",
            Action::Remind => "remind",
            Action::Reopen => "reopen",
            Action::ReissueQueryCode => "reissue-query-code",
            Action::IssueDocument => "issue-document",
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
            Action::ResolutionPlan => "resolution-plan",
            Action::Correct => "correct",
            Action::Withdraw => "withdraw",
            Action::Attach => "attach",
            Action::RequestAdjustment => "request-adjustment",
            Action::ApproveAdjustment => "approve-adjustment",
            Action::RevokeAdjustment => "revoke-adjustment",
            Action::RequestErasure => "erase-personal-data",
            Action::ApproveErasure => "approve-erasure",
        }
    }

    /// The step in Chinese, as a clerk names it.
    pub fn name_zh(self) -> &'static str {
        match self {
            Action::Register => "登记",
            Action::Acknowledge => "签收",
            Action::Remind => "催办",
            Action::Reopen => "重办",
            Action::ReissueQueryCode => "重发查询码",
            Action::IssueDocument => "出具文书",
            Action::Accept => "受理",
            Action::Reject => "不予受理",
            Action::Assign => "交办",
            Action::Transfer => "转送",
            Action::Supervise => "督办",
            Action::Extend => "延期",
            Action::Reply => "答复",
            Action::FollowUp => "回访",
            Action::Close => "办结",
            Action::RequestReview => "申请复查",
            Action::DecideReview => "作出复查意见",
            Action::RequestRereview => "申请复核",
            Action::DecideRereview => "作出复核意见",
            Action::Merge => "合并",
            Action::AssignLeader => "确定包案领导",
            Action::ResolutionPlan => "制定化解方案",
            Action::Correct => "更正",
            Action::Withdraw => "撤回",
            Action::Attach => "添加证据材料",
            Action::RequestAdjustment => "申请核减",
            Action::ApproveAdjustment => "批准核减",
            Action::RevokeAdjustment => "撤销核减",
            Action::RequestErasure => "申请删除个人信息",
            Action::ApproveErasure => "批准删除个人信息",
        }
    }

    /// 核减 and 个人信息删除: steps about the record (county and auditors) on paths of their own
    /// (`/v1/adjustments`, `/v1/cases/{id}/erase-personal-data`, `/v1/erasures`), never on a
    /// case's step URL nor a township's inbox.
    pub fn is_adjustment(self) -> bool {
        matches!(
            self,
            Action::RequestAdjustment
                | Action::ApproveAdjustment
                | Action::RevokeAdjustment
                | Action::RequestErasure
                | Action::ApproveErasure
        )
    }

    /// A step taken on `/v1/cases/{id}/{action}`: registration has its own path, evidence is
    /// uploaded with its bytes, a document is issued by its first request, and adjustments
    /// have theirs.
    pub fn on_case_url(self) -> bool {
        !matches!(
            self,
            Action::Register | Action::Attach | Action::IssueDocument
        ) && !self.is_adjustment()
    }

    /// Steps a township's inbox does not take: the record's own (adjustments, erasures), and a
    /// new query code, which only its HTTP answer carries (an outcome message would copy it to
    /// the township's stream).
    pub fn over_http_only(self) -> bool {
        self.is_adjustment() || matches!(self, Action::ReissueQueryCode | Action::IssueDocument)
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    /// An action is written as its name in URLs and subjects.
    #[test]
    fn an_action_is_written_as_its_name() {
        for a in Action::ALL {
            let json = serde_json::to_value(a).expect("json");
            assert_eq!(json, serde_json::Value::from(a.as_str()));
            assert_eq!(serde_json::from_value::<Action>(json).expect("back"), a);
        }
    }
}
