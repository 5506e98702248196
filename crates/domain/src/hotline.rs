//! Hotlines and tickets (热线与工单): a station's lines (station line, emergency line, the 12345
//! special line, alarm buttons) with their duty roster; tickets taken from a call, a 12345
//! dispatch (its external number kept and its state mirrored; nothing is dispatched to 12345 from
//! here), an alarm button, a walk-in or a message; the closed loop 受理 → 分派 → 签收 → 办理中 →
//! (退单 / 改派 / 延期申请) → 已回复 → 办结 → 回访 → 归档; due times from a policy per category
//! counted in working days (Saturday and Sunday are not working days; public holidays are not
//! modelled); overdue tickets escalate one region level per further period.
//!
//! Times are UTC epoch milliseconds; days are China Standard Time (UTC+8) days.

use crate::FieldError;

codes!(
    /// What a line is: a station's own line, an emergency line (e.g. 红棉守护热线), the 12345
    /// special line (专线) or a home alarm button (平安通).
    HotlineKind, "kind", "hotline.kind_unknown" {
        Station = "station",
        Emergency = "emergency",
        Special12345 = "special_12345",
        Alarm = "alarm",
    }
);

codes!(
    /// How a ticket came in.
    Channel, "channel", "ticket.channel_unknown" {
        Phone = "phone",
        Dispatch12345 = "dispatch_12345",
        AlarmButton = "alarm_button",
        WalkIn = "walk_in",
        Message = "message",
    }
);

codes!(
    /// 咨询 / 求助 / 投诉 / 建议 / 紧急 / 危机 (suicide risk, violence).
    Category, "category", "ticket.category_unknown" {
        Consult = "consult",
        Help = "help",
        Complaint = "complaint",
        Suggestion = "suggestion",
        Emergency = "emergency",
        Crisis = "crisis",
    }
);

codes!(
    Urgency, "urgency", "ticket.urgency_unknown" {
        Normal = "normal",
        Urgent = "urgent",
        Critical = "critical",
    }
);

codes!(
    /// 受理, 分派, 签收, 办理中, 延期申请中, 已回复, 办结, 已回访, 归档.
    TicketState, "state", "ticket.state_unknown" {
        Received = "received",
        Assigned = "assigned",
        Accepted = "accepted",
        InProgress = "in_progress",
        ExtensionRequested = "extension_requested",
        Replied = "replied",
        Closed = "closed",
        FollowedUp = "followed_up",
        Archived = "archived",
    }
);

codes!(
    /// A step of the loop. 退单 (`return`) sends the ticket back to 受理 for re-dispatch; 改派
    /// (`reassign`) gives it to someone else; an extension is requested, then approved (a new due
    /// time) or refused; an unsatisfied follow-up may `reopen` it.
    Step, "step", "ticket.step_unknown" {
        Assign = "assign",
        Accept = "accept",
        Start = "start",
        Return = "return",
        Reassign = "reassign",
        RequestExtension = "request_extension",
        ApproveExtension = "approve_extension",
        RefuseExtension = "refuse_extension",
        Reply = "reply",
        Close = "close",
        FollowUp = "follow_up",
        Reopen = "reopen",
        Archive = "archive",
    }
);

codes!(
    /// The caller's satisfaction at follow-up (满意 / 基本满意 / 不满意).
    Satisfaction, "satisfaction", "ticket.satisfaction_unknown" {
        Satisfied = "satisfied",
        Basic = "basic",
        Unsatisfied = "unsatisfied",
    }
);

codes!(
    /// What came of a ticket: answered; a case opened (linked); a service recorded (linked);
    /// referred to an organisation; a volunteer task or a resource match (kind and reference text
    /// until those areas exist to link to).
    Outcome, "outcome", "ticket.outcome_unknown" {
        Answered = "answered",
        CaseOpened = "case_opened",
        ServiceRecorded = "service_recorded",
        Referred = "referred",
        VolunteerTask = "volunteer_task",
        ResourceMatch = "resource_match",
    }
);

/// The state a step leads to from `from`; a step the state does not allow is refused on `step`.
/// `satisfaction` matters for `reopen`, which only an unsatisfied follow-up allows.
pub fn next(
    from: TicketState,
    step: Step,
    satisfaction: Option<Satisfaction>,
) -> Result<TicketState, FieldError> {
    use Step as S;
    use TicketState as T;
    let to = match (from, step) {
        (T::Received, S::Assign) => T::Assigned,
        (T::Assigned, S::Accept) => T::Accepted,
        (T::Accepted, S::Start) => T::InProgress,
        (T::Assigned | T::Accepted | T::InProgress, S::Return) => T::Received,
        (T::Assigned | T::Accepted | T::InProgress, S::Reassign) => T::Assigned,
        (T::InProgress, S::RequestExtension) => T::ExtensionRequested,
        (T::ExtensionRequested, S::ApproveExtension | S::RefuseExtension) => T::InProgress,
        (T::InProgress, S::Reply) => T::Replied,
        (T::Replied, S::Close) => T::Closed,
        (T::Closed, S::FollowUp) => T::FollowedUp,
        (T::FollowedUp, S::Reopen) if satisfaction == Some(Satisfaction::Unsatisfied) => {
            T::InProgress
        }
        (T::FollowedUp | T::Closed, S::Archive) => T::Archived,
        _ => return Err(FieldError::new("step", "ticket.step_not_allowed")),
    };
    Ok(to)
}

/// Whether the ticket still waits for an answer (so it can be overdue).
pub fn open(state: TicketState) -> bool {
    matches!(
        state,
        TicketState::Received
            | TicketState::Assigned
            | TicketState::Accepted
            | TicketState::InProgress
            | TicketState::ExtensionRequested
    )
}

/// How long a category may take: until the end of the day it came in, or N working days
/// counted from the next day (ending at the end of the last one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sla {
    SameDay,
    WorkingDays(u32),
}

impl Sla {
    /// "same_day" or a number of working days ("3").
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "same_day" | "0" => Ok(Sla::SameDay),
            n => n
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=60).contains(n))
                .map(Sla::WorkingDays)
                .ok_or_else(|| FieldError::new("sla", "ticket.sla_invalid")),
        }
    }
}

/// The typical 12345 rules (one bureau's, domain reference §5.2): emergencies the same day,
/// consultations and help requests ≤ 3 working days, complaints ≤ 13 working days. Suggestions
/// are taken like complaints; a crisis like an emergency.
pub fn default_sla(c: Category) -> Sla {
    match c {
        Category::Emergency | Category::Crisis => Sla::SameDay,
        Category::Consult | Category::Help => Sla::WorkingDays(3),
        Category::Complaint | Category::Suggestion => Sla::WorkingDays(13),
    }
}

use crate::calendar::end_of_day as end_of;
pub use crate::calendar::{add_working_days, local_day, working_day, working_days_between};

/// When a ticket received at `received_at` is due under `sla`: the end of that (CST) day, or
/// of the Nth working day after it.
pub fn due_at(received_at: i64, sla: Sla) -> i64 {
    let day = local_day(received_at);
    match sla {
        Sla::SameDay => end_of(day),
        Sla::WorkingDays(n) => end_of(add_working_days(day, n)),
    }
}

/// Region levels a ticket climbs: 0 while not overdue; 1 once overdue (the township, 催办);
/// then one more level for each further `per_level` working days (county, city, province),
/// at most `max`.
pub fn escalation(due_at: i64, now: i64, per_level: u32, max: u8) -> u8 {
    if now <= due_at {
        return 0;
    }
    let late = working_days_between(local_day(due_at - 1), local_day(now));
    let extra = late / i64::from(per_level.max(1));
    let level = 1 + extra.min(i64::from(max));
    u8::try_from(level).unwrap_or(max).min(max)
}

/// A received time typed for a 12345 dispatch: not in the future.
pub fn check_received(received_at: i64, now: i64) -> Result<(), FieldError> {
    if received_at > now {
        return Err(FieldError::new("received_at", "ticket.received_in_future"));
    }
    Ok(())
}

/// A new due time (an approved extension): after the current one and not in the past.
pub fn check_new_due(current: i64, new_due: i64, now: i64) -> Result<(), FieldError> {
    if new_due <= now || new_due <= current {
        return Err(FieldError::new("due_at", "ticket.due_not_later"));
    }
    Ok(())
}

/// A duty shift "HH:MM" – "HH:MM" (an end before the start runs past midnight).
pub fn check_shift(starts: &str, ends: &str) -> Result<(), FieldError> {
    let ok = |s: &str| {
        s.trim().len() == 5 && chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M").is_ok()
    };
    if !ok(starts) {
        return Err(FieldError::new("starts", "hotline.time_invalid"));
    }
    if !ok(ends) || starts.trim() == ends.trim() {
        return Err(FieldError::new("ends", "hotline.time_invalid"));
    }
    Ok(())
}

/// A hotline number: digits and dashes, 3 to 20 characters (5-digit service numbers, landlines
/// with area codes, mobiles).
pub fn check_number(n: &str) -> Result<(), FieldError> {
    let n = n.trim();
    let len = n.chars().count();
    if !(3..=20).contains(&len) || !n.chars().all(|c| c.is_ascii_digit() || c == '-') {
        return Err(FieldError::new("number", "hotline.number_invalid"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        // CST wall time.
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
            .timestamp_millis()
            - crate::calendar::CST_OFFSET
    }

    #[test]
    fn the_loop_goes_forward_and_refuses_the_rest() {
        use Step as S;
        use TicketState as T;
        let path = [
            (S::Assign, T::Assigned),
            (S::Accept, T::Accepted),
            (S::Start, T::InProgress),
            (S::RequestExtension, T::ExtensionRequested),
            (S::ApproveExtension, T::InProgress),
            (S::Reply, T::Replied),
            (S::Close, T::Closed),
            (S::FollowUp, T::FollowedUp),
            (S::Archive, T::Archived),
        ];
        let mut s = T::Received;
        for (step, to) in path {
            s = next(s, step, None).unwrap();
            assert_eq!(s, to);
        }
        // Nothing leaves the archive.
        for step in Step::ALL {
            assert_eq!(
                next(T::Archived, *step, None).unwrap_err(),
                FieldError::new("step", "ticket.step_not_allowed")
            );
        }
        // No replying before the work started, no closing before a reply, no skipping signing.
        assert!(next(T::Received, S::Reply, None).is_err());
        assert!(next(T::InProgress, S::Close, None).is_err());
        assert!(next(T::Assigned, S::Start, None).is_err());
        assert!(next(T::Received, S::Return, None).is_err());
        // 退单 and 改派.
        assert_eq!(next(T::Accepted, S::Return, None).unwrap(), T::Received);
        assert_eq!(next(T::InProgress, S::Reassign, None).unwrap(), T::Assigned);
        assert_eq!(
            next(T::ExtensionRequested, S::RefuseExtension, None).unwrap(),
            T::InProgress
        );
        // Reopening needs an unsatisfied caller.
        assert!(next(T::FollowedUp, S::Reopen, Some(Satisfaction::Satisfied)).is_err());
        assert_eq!(
            next(T::FollowedUp, S::Reopen, Some(Satisfaction::Unsatisfied)).unwrap(),
            T::InProgress
        );
    }

    #[test]
    fn due_times_count_working_days_in_china_time() {
        // Friday 2026-06-05, 23:30 CST (15:30 UTC): an emergency is due at midnight CST.
        let fri = at("2026-06-05 23:30");
        assert_eq!(due_at(fri, Sla::SameDay), at("2026-06-06 00:00"));
        // Three working days from Friday: Mon, Tue, Wed → the end of Wednesday.
        assert_eq!(due_at(fri, Sla::WorkingDays(3)), at("2026-06-11 00:00"));
        // Thirteen: Mon 8 … Wed 24.
        assert_eq!(due_at(fri, Sla::WorkingDays(13)), at("2026-06-25 00:00"));
        assert_eq!(default_sla(Category::Crisis), Sla::SameDay);
        assert_eq!(default_sla(Category::Help), Sla::WorkingDays(3));
        assert_eq!(default_sla(Category::Complaint), Sla::WorkingDays(13));
        assert_eq!(Sla::parse("same_day").unwrap(), Sla::SameDay);
        assert!(Sla::parse("0x").is_err());
    }

    #[test]
    fn escalation_climbs_one_level_per_period() {
        let due = at("2026-06-11 00:00"); // end of Wednesday 10th
        assert_eq!(escalation(due, due - 1, 5, 4), 0);
        assert_eq!(escalation(due, at("2026-06-11 09:00"), 5, 4), 1);
        // Five further working days (Thu 11 … Wed 17): one level up.
        assert_eq!(escalation(due, at("2026-06-16 09:00"), 5, 4), 1);
        assert_eq!(escalation(due, at("2026-06-17 09:00"), 5, 4), 2);
        assert_eq!(escalation(due, at("2026-07-30 09:00"), 5, 4), 4);
    }

    #[test]
    fn checks_name_their_field() {
        assert_eq!(check_received(2, 1).unwrap_err().field, "received_at");
        assert!(check_received(1, 1).is_ok());
        assert_eq!(check_new_due(10, 9, 5).unwrap_err().field, "due_at");
        assert_eq!(check_new_due(10, 20, 30).unwrap_err().field, "due_at");
        assert!(check_new_due(10, 20, 5).is_ok());
        assert_eq!(check_shift("8:00", "17:00").unwrap_err().field, "starts");
        assert!(check_shift("08:00", "17:00").is_ok());
        assert!(check_shift("20:00", "08:00").is_ok());
        assert_eq!(check_number("12a45").unwrap_err().field, "number");
        assert!(check_number("0731-12345").is_ok());
    }
}
