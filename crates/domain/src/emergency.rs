//! 应急社会工作 (emergency social work, issue 16 item 2): emergency social-work teams
//! (应急社会工作服务队; Guangdong's 2016 team: 50 members and 50 reserves in 评估组、执行组、后勤组),
//! incidents with their type, level and response states (预警 → 响应 → 处置 → 恢复 → 关闭),
//! and deployments of a team's members for a period.

use crate::FieldError;

codes!(
    /// The group a team member serves in: 评估组, 执行组, 后勤组.
    TeamRole, "role", "emergency.role_unknown" {
        Assessment = "assessment",
        Execution = "execution",
        Logistics = "logistics",
    }
);

codes!(
    /// The four classes of 突发事件 (突发事件应对法 Art. 3).
    IncidentKind, "kind", "emergency.kind_unknown" {
        NaturalDisaster = "natural_disaster",
        Accident = "accident",
        PublicHealth = "public_health",
        SocialSafety = "social_safety",
    }
);

codes!(
    /// 特别重大 (I), 重大 (II), 较大 (III), 一般 (IV).
    IncidentLevel, "level", "emergency.level_unknown" {
        I = "1",
        Ii = "2",
        Iii = "3",
        Iv = "4",
    }
);

codes!(
    /// The response states: 预警 → 响应 → 处置 → 恢复 → 关闭.
    IncidentState, "state", "emergency.state_unknown" {
        Warning = "warning",
        Response = "response",
        Handling = "handling",
        Recovery = "recovery",
        Closed = "closed",
    }
);

impl IncidentState {
    /// The states this one may move to: forward one step, or straight to closed (a warning that
    /// passes without harm, a response stood down); a closed incident moves no more.
    pub fn next(self) -> &'static [IncidentState] {
        use IncidentState::*;
        match self {
            Warning => &[Response, Closed],
            Response => &[Handling, Closed],
            Handling => &[Recovery, Closed],
            Recovery => &[Closed],
            Closed => &[],
        }
    }

    /// Check a transition; refused on `state`, naming why.
    pub fn check_transition(self, to: IncidentState) -> Result<(), FieldError> {
        if self == IncidentState::Closed {
            return Err(FieldError::new("state", "emergency.incident_closed"));
        }
        if self.next().contains(&to) {
            Ok(())
        } else {
            Err(FieldError::new("state", "emergency.transition_refused"))
        }
    }

    /// Whether the incident still takes deployments and service records.
    pub fn is_open(self) -> bool {
        self != IncidentState::Closed
    }
}

/// The response level (应急响应级别) is I–IV like the incident level, or none yet.
pub fn check_response_level(v: &str) -> Result<Option<IncidentLevel>, FieldError> {
    match v.trim() {
        "" => Ok(None),
        s => IncidentLevel::parse(s)
            .map(Some)
            .map_err(|_| FieldError::new("response_level", "emergency.level_unknown")),
    }
}

/// The lowest common ancestor of region codes (materialised paths): the longest common prefix
/// that is itself one of the codes' ancestors (NBS code lengths 2, 4, 6, 9, 12), "" for none.
pub fn common_region(codes: &[&str]) -> String {
    let Some(first) = codes.first() else {
        return String::new();
    };
    let mut len = first.len();
    for c in codes.iter().skip(1) {
        let same = first
            .bytes()
            .zip(c.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        len = len.min(same);
    }
    let cut = [12usize, 9, 6, 4, 2]
        .into_iter()
        .find(|&l| l <= len && codes.iter().all(|c| c.len() >= l))
        .unwrap_or(0);
    first.get(..cut).unwrap_or_default().to_owned()
}

/// A deployment's period: `to` after `from` (epoch milliseconds), at most 366 days.
pub fn check_period(from: i64, to: i64) -> Result<(), FieldError> {
    if to <= from {
        return Err(FieldError::new("to", "emergency.to_before_from"));
    }
    if to - from > 366 * 86_400_000 {
        return Err(FieldError::new("to", "emergency.period_too_long"));
    }
    Ok(())
}

/// Two half-open periods [a0, a1) and [b0, b1) overlap.
pub fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[cfg(test)]
mod tests {
    use super::IncidentState::*;
    use super::*;

    #[test]
    fn states_move_forward_or_close() {
        assert!(Warning.check_transition(Response).is_ok());
        assert!(Response.check_transition(Handling).is_ok());
        assert!(Handling.check_transition(Recovery).is_ok());
        assert!(Recovery.check_transition(Closed).is_ok());
        assert!(Warning.check_transition(Closed).is_ok());
        assert_eq!(
            Warning.check_transition(Recovery),
            Err(FieldError::new("state", "emergency.transition_refused"))
        );
        assert_eq!(
            Handling.check_transition(Response),
            Err(FieldError::new("state", "emergency.transition_refused"))
        );
        assert_eq!(
            Closed.check_transition(Response),
            Err(FieldError::new("state", "emergency.incident_closed"))
        );
        assert!(Response.check_transition(Response).is_err());
    }

    #[test]
    fn common_region_is_an_ancestor() {
        assert_eq!(common_region(&["430203001", "430203002"]), "430203");
        assert_eq!(common_region(&["430203001", "430211001"]), "4302");
        assert_eq!(common_region(&["430203001"]), "430203001");
        assert_eq!(common_region(&["430203", "430203001"]), "430203");
        assert_eq!(common_region(&["43", "44"]), "");
    }

    #[test]
    fn periods() {
        assert!(check_period(1, 1).is_err());
        assert!(check_period(2, 1).is_err());
        assert!(check_period(1, 2).is_ok());
        assert!(overlaps((0, 10), (5, 15)));
        assert!(!overlaps((0, 10), (10, 15)));
    }
}
