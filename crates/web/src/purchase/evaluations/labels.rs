//! Message keys of the evaluation codes, written out so every key is a literal the catalogue
//! checks find.

use shegong_domain::purchase::evaluation::{
    EvaluationKind, EvaluationState, EvaluatorRole, Grade, RectificationState,
};
use shegong_domain::purchase::indicator::Scorer;

pub fn kind(k: EvaluationKind) -> &'static str {
    match k {
        EvaluationKind::SpotCheck => "evaluation.kind.spot_check",
        EvaluationKind::MidTerm => "evaluation.kind.mid_term",
        EvaluationKind::Final => "evaluation.kind.final",
        EvaluationKind::Quarterly => "evaluation.kind.quarterly",
    }
}

pub fn state(s: EvaluationState) -> &'static str {
    match s {
        EvaluationState::Plan => "evaluations.state.plan",
        EvaluationState::SelfAssessment => "evaluations.state.self_assessment",
        EvaluationState::DocumentReview => "evaluations.state.document_review",
        EvaluationState::SiteVisit => "evaluations.state.site_visit",
        EvaluationState::Preliminary => "evaluations.state.preliminary",
        EvaluationState::Feedback => "evaluations.state.feedback",
        EvaluationState::Rectification => "evaluations.state.rectification",
        EvaluationState::Review => "evaluations.state.review",
        EvaluationState::Final => "evaluations.state.final",
        EvaluationState::Published => "evaluations.state.published",
    }
}

pub fn grade(g: Grade) -> &'static str {
    match g {
        Grade::Excellent => "evaluations.grade.excellent",
        Grade::Good => "evaluations.grade.good",
        Grade::Pass => "evaluations.grade.pass",
        Grade::Fail => "evaluations.grade.fail",
    }
}

pub fn role(r: EvaluatorRole) -> &'static str {
    match r {
        EvaluatorRole::ThirdParty => "evaluations.role.third_party",
        EvaluatorRole::Purchaser => "evaluations.role.purchaser",
        EvaluatorRole::SupervisingBureau => "evaluations.role.supervising_bureau",
        EvaluatorRole::VillageCommittee => "evaluations.role.village_committee",
    }
}

pub fn scorer(s: &Scorer) -> &'static str {
    match s {
        Scorer::Sum => "evaluations.scorer.sum",
        Scorer::Points => "evaluations.scorer.points",
        Scorer::Graded { .. } => "evaluations.scorer.graded",
        Scorer::RatioBands { .. } => "evaluations.scorer.ratio_bands",
        Scorer::Veto => "evaluations.scorer.veto",
    }
}

pub fn rectification(s: RectificationState) -> &'static str {
    match s {
        RectificationState::Open => "evaluations.rect_state.open",
        RectificationState::Submitted => "evaluations.rect_state.submitted",
        RectificationState::Accepted => "evaluations.rect_state.accepted",
        RectificationState::Rejected => "evaluations.rect_state.rejected",
    }
}

/// The button that moves a task into `s`.
pub fn rectification_step(s: RectificationState) -> &'static str {
    match s {
        RectificationState::Open => "evaluations.rect_step.open",
        RectificationState::Submitted => "evaluations.rect_step.submitted",
        RectificationState::Accepted => "evaluations.rect_step.accepted",
        RectificationState::Rejected => "evaluations.rect_step.rejected",
    }
}
