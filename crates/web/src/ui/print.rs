//! Print pages (A4): the resident registration form, a case file summary, an inspection record
//! and a service (visit) record. A print page has no menu; its sheet carries the unit and the
//! title, who printed it and when, the record's number, and boxes to sign and stamp. Sensitive
//! values stay masked unless the viewer reveals them with a reason, as on the record's page
//! (audited).

use crate::http::auth::Ctx;
use crate::ui::i18n::Tr;
use crate::ui::list::local_time;

/// The sheet's head and foot.
pub struct Sheet {
    /// The unit the record belongs to (station, or the region), above the title.
    pub unit: String,
    /// The record's number (its id).
    pub number: String,
    pub printed_by: String,
    pub printed_at: String,
    /// Where the "back" button goes (the record's page).
    pub back: String,
    /// Labels of the signature and stamp boxes.
    pub signs: Vec<String>,
}

impl Sheet {
    pub fn new(
        t: &Tr,
        ctx: &Ctx,
        now: i64,
        (unit, number, back): (String, String, String),
        signs: &[&str],
    ) -> Self {
        Self {
            unit,
            number,
            printed_by: ctx
                .user
                .as_ref()
                .map(|u| u.user.display_name.clone())
                .unwrap_or_default(),
            printed_at: local_time(now),
            back,
            signs: signs.iter().map(|k| t.get(k).to_owned()).collect(),
        }
    }
}
