//! Notifications: the outside channels, quiet hours and the retry schedule (issue 17 item 2).
//! The in-app inbox is not a channel here: every notification is in it.

use chrono::NaiveTime;

use crate::FieldError;

/// An outside channel a notification can also go out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelKind {
    /// E-mail through an SMTP relay.
    Email,
    /// A JSON POST signed with HMAC-SHA256: the shape a 浙政钉, 粤政易 or 企业微信 adapter takes.
    Webhook,
    /// A text message through the provider's approved template (count and kind as parameters).
    Sms,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] = [ChannelKind::Email, ChannelKind::Webhook, ChannelKind::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or(FieldError::new("channel", "notify.channel_unknown"))
    }
}

/// Quiet hours in China time: outside channels wait until they end. `from` after `to` spans
/// midnight (22:00–07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

impl QuietHours {
    /// Both empty: none. Both `HH:MM` and different: the window. Anything else names the field.
    pub fn parse(from: &str, to: &str) -> Result<Option<Self>, FieldError> {
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty() && to.is_empty() {
            return Ok(None);
        }
        let time = |s: &str, field| {
            NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|_| FieldError::new(field, "notify.time_invalid"))
        };
        let (from, to) = (time(from, "quiet_from")?, time(to, "quiet_to")?);
        if from == to {
            return Err(FieldError::new("quiet_to", "notify.quiet_empty"));
        }
        Ok(Some(Self { from, to }))
    }

    /// Whether `t` falls inside the window.
    pub fn contains(self, t: NaiveTime) -> bool {
        if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }

    /// Minutes from `t` until the window ends (0 outside it).
    pub fn minutes_left(self, t: NaiveTime) -> i64 {
        if !self.contains(t) {
            return 0;
        }
        let left = (self.to - t).num_minutes();
        if left > 0 { left } else { left + 24 * 60 }
    }
}

/// Attempts before a delivery is given up (the notification stays in the inbox).
pub const MAX_ATTEMPTS: i64 = 8;

/// Minutes to wait after the `attempts`-th failure: 1, 5, 15, 60, then every 4 hours; `None`
/// once [`MAX_ATTEMPTS`] have failed.
pub fn retry_after_minutes(attempts: i64) -> Option<i64> {
    match attempts {
        a if a >= MAX_ATTEMPTS => None,
        ..=1 => Some(1),
        2 => Some(5),
        3 => Some(15),
        4 => Some(60),
        _ => Some(240),
    }
}

/// An e-mail address as a relay takes it: one `@`, something on both sides, no spaces, bounded.
pub fn email(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    let ok = s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new("email", "notify.email_invalid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn quiet_hours_span_midnight() {
        let q = QuietHours::parse("22:00", "07:30").unwrap().unwrap();
        assert!(q.contains(t("23:10")) && q.contains(t("02:00")) && !q.contains(t("07:30")));
        assert_eq!(q.minutes_left(t("23:00")), 510);
        assert_eq!(q.minutes_left(t("12:00")), 0);
        let day = QuietHours::parse("12:00", "14:00").unwrap().unwrap();
        assert!(day.contains(t("13:59")) && !day.contains(t("14:00")) && !day.contains(t("11:59")));
        assert_eq!(QuietHours::parse(" ", "").unwrap(), None);
        assert_eq!(
            QuietHours::parse("25:00", "07:00").unwrap_err().field,
            "quiet_from"
        );
        assert_eq!(
            QuietHours::parse("22:00", "").unwrap_err().field,
            "quiet_to"
        );
        assert_eq!(
            QuietHours::parse("08:00", "08:00").unwrap_err().code,
            "notify.quiet_empty"
        );
    }

    #[test]
    fn retries_slow_down_then_stop() {
        let waits: Vec<Option<i64>> = (1..=MAX_ATTEMPTS).map(retry_after_minutes).collect();
        assert_eq!(&waits[..4], &[Some(1), Some(5), Some(15), Some(60)]);
        assert_eq!(waits.last(), Some(&None));
    }

    #[test]
    fn addresses() {
        assert_eq!(email(" li@mz.gov.cn ").unwrap(), "li@mz.gov.cn");
        for bad in [
            "",
            "li",
            "li@",
            "@mz.gov.cn",
            "li@mz",
            "a b@mz.cn",
            "a@b@c.cn",
            "a@x.cn,b@y.cn",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }
}
