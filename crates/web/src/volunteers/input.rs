//! The volunteer form (and API body in the same shape) parsed into the store's input, every
//! refused field named; masking of the sealed values; the audit entry's changes.

use chrono::NaiveDate;
use shegong_domain::FieldError;
use shegong_domain::people::identity::{IdNumber, IdType, Mobile, Sex, mask};
use shegong_domain::text::DateKind;
use shegong_domain::volunteers::{self, Minor, VolunteerStatus};
use shegong_store::admin::audit::{self, Change};
use shegong_store::volunteers::registry::{self, Volunteer, VolunteerInput};

use crate::http::state::AppState;
use crate::ui::forms::{Check, FormData};

/// Every field the form has a row for (errors about others are shown above it).
pub const FIELDS: &[&str] = &[
    "name",
    "id_type",
    "id_number",
    "sex",
    "birth_date",
    "mobile",
    "region",
    "station",
    "skills",
    "intentions",
    "availability",
    "guardian_name",
    "guardian_consent_on",
    "accompanied",
    "status",
    "registered_on",
];

fn opt(f: &FormData, k: &str) -> Option<String> {
    Some(f.get(k).trim().to_owned()).filter(|s| !s.is_empty())
}

/// The identity type and number; `None` when left blank (allowed only when editing).
fn identity(c: &mut Check, f: &FormData, today: NaiveDate, editing: bool) -> Option<IdNumber> {
    let raw = f.get("id_number").trim();
    if raw.is_empty() {
        if !editing {
            c.fail("id_number", "form.required");
        }
        return None;
    }
    if raw.chars().count() > 40 {
        c.fail("id_number", "form.too_long");
        return None;
    }
    let ty = c.take(IdType::parse(match f.get("id_type").trim() {
        "" => "resident_id",
        v => v,
    }))?;
    c.take(IdNumber::parse_as_of(ty, raw, today))
}

/// Parse a volunteer form. When `editing`, a blank identity number or mobile keeps the stored
/// one (the form never shows them).
pub fn parse(
    f: &FormData,
    today: NaiveDate,
    editing: bool,
) -> Result<VolunteerInput, Vec<FieldError>> {
    let mut c = Check::default();
    let name = c.name("name", f.get("name").trim(), 50);
    let id = identity(&mut c, f, today, editing);
    let sex = match f.get("sex").trim() {
        "" => id
            .as_ref()
            .and_then(IdNumber::sex)
            .map(|s| s.as_str().to_owned()),
        v => c.take(Sex::parse(v)).map(|s| s.as_str().to_owned()),
    };
    let birth_date = match f.get("birth_date").trim() {
        "" => match id.as_ref().and_then(IdNumber::birth_date) {
            Some(d) => d.format("%Y-%m-%d").to_string(),
            None => c.date("birth_date", ""),
        },
        v => c.date_of("birth_date", v, DateKind::Birth, today),
    };
    let mobile = match f.get("mobile").trim() {
        "" => None,
        v if v.chars().count() > 30 => {
            c.fail("mobile", "form.too_long");
            None
        }
        v => c.take(Mobile::parse(v)).map(|m| m.national().to_owned()),
    };
    let region = c.region("region", f.get("region").trim());
    let skills_text = bounded(&mut c, f, "skills", 500);
    let skills = c
        .take(volunteers::parse_tags("skills", &skills_text))
        .unwrap_or_default();
    let intentions_text = bounded(&mut c, f, "intentions", 500);
    let intentions = c
        .take(volunteers::parse_tags("intentions", &intentions_text))
        .unwrap_or_default();
    let availability = c.opt_text("availability", f.get("availability").trim(), 200);
    let guardian_name = match f.get("guardian_name").trim() {
        "" => String::new(),
        v => c.name("guardian_name", v, 50),
    };
    let guardian_consent_on = match f.get("guardian_consent_on").trim() {
        "" => None,
        v => Some(c.date_of("guardian_consent_on", v, DateKind::Past, today)),
    };
    let accompanied = f.has("accompanied", "1") || f.has("accompanied", "true");
    let status = c.take(VolunteerStatus::parse(match f.get("status").trim() {
        "" => "active",
        v => v,
    }));
    let registered_on = match f.get("registered_on").trim() {
        "" => today.to_string(),
        v => c.date_of("registered_on", v, DateKind::Past, today),
    };
    if let Ok(birth) = NaiveDate::parse_from_str(&birth_date, "%Y-%m-%d") {
        let minor = Minor {
            guardian_name: &guardian_name,
            guardian_consent_on: guardian_consent_on.as_deref().filter(|d| !d.is_empty()),
            accompanied,
        };
        for e in volunteers::check_minor(birth, today, &minor) {
            c.fail(e.field, e.code);
        }
    }
    let station_id = opt(f, "station");
    if station_id.as_ref().is_some_and(|s| s.len() > 64) {
        c.fail("station", "staff.station_unknown");
    }
    c.finish()?;
    let Some(status) = status else {
        return Err(vec![FieldError::new("status", "volunteer.status_unknown")]);
    };
    Ok(VolunteerInput {
        region,
        station_id,
        name,
        id_type: id.as_ref().map(|n| n.id_type().as_str().to_owned()),
        id_number: id.map(|n| n.as_str().to_owned()),
        sex,
        birth_date,
        mobile,
        skills,
        intentions,
        availability,
        guardian_name,
        guardian_consent_on,
        accompanied,
        status,
        registered_on,
    })
}

/// The raw text of a long field, refused beyond `max` characters.
fn bounded(c: &mut Check, f: &FormData, field: &'static str, max: usize) -> String {
    c.opt_text(field, f.get(field).trim(), max)
}

/// The form as a stored record fills it (sealed values left blank).
pub fn form_of(v: &Volunteer) -> FormData {
    FormData::new(vec![
        ("name".into(), v.name.clone()),
        ("id_type".into(), v.id_type.clone()),
        ("sex".into(), v.sex.clone().unwrap_or_default()),
        ("birth_date".into(), v.birth_date.clone()),
        ("region".into(), v.region_code.clone()),
        ("station".into(), v.station_id.clone().unwrap_or_default()),
        ("skills".into(), v.skills.clone()),
        ("intentions".into(), v.intentions.clone()),
        ("availability".into(), v.availability.clone()),
        ("guardian_name".into(), v.guardian_name.clone()),
        (
            "guardian_consent_on".into(),
            v.guardian_consent_on.clone().unwrap_or_default(),
        ),
        (
            "accompanied".into(),
            if v.accompanied == 1 { "1" } else { "" }.into(),
        ),
        ("status".into(), v.status.to_string()),
        ("registered_on".into(), v.registered_on.clone()),
    ])
}

/// The sealed values of a record, masked or opened.
pub struct Sensitive {
    pub id_number: String,
    pub mobile: String,
}

fn open(state: &AppState, field: &str, sealed: Option<&str>) -> Option<String> {
    sealed.and_then(|s| state.keys.open(field, s).ok())
}

pub fn masked(state: &AppState, v: &Volunteer) -> Sensitive {
    Sensitive {
        id_number: open(state, registry::ID_FIELD, Some(&v.id_number_sealed))
            .map(|n| mask(&n))
            .unwrap_or_default(),
        mobile: open(state, registry::MOBILE_FIELD, v.mobile_sealed.as_deref())
            .map(|m| {
                Mobile::parse(&m)
                    .map(|m| m.masked())
                    .unwrap_or_else(|_| mask(&m))
            })
            .unwrap_or_default(),
    }
}

pub fn opened(state: &AppState, v: &Volunteer) -> Sensitive {
    Sensitive {
        id_number: open(state, registry::ID_FIELD, Some(&v.id_number_sealed)).unwrap_or_default(),
        mobile: open(state, registry::MOBILE_FIELD, v.mobile_sealed.as_deref()).unwrap_or_default(),
    }
}

/// What the audit entry says about a write: plain fields with values, sealed ones only as
/// changed.
pub fn changes(before: Option<&Volunteer>, i: &VolunteerInput) -> Vec<Change> {
    let b = |f: fn(&Volunteer) -> Option<String>| before.and_then(f);
    let mut c = audit::diff(&[
        ("name", b(|v| Some(v.name.clone())), Some(i.name.clone())),
        (
            "region",
            b(|v| Some(v.region_code.clone())),
            i.region.as_ref().map(ToString::to_string),
        ),
        ("station", b(|v| v.station_id.clone()), i.station_id.clone()),
        (
            "birth_date",
            b(|v| Some(v.birth_date.clone())),
            Some(i.birth_date.clone()),
        ),
        (
            "skills",
            b(|v| Some(v.skills.clone())),
            Some(volunteers::join_tags(&i.skills)),
        ),
        (
            "intentions",
            b(|v| Some(v.intentions.clone())),
            Some(volunteers::join_tags(&i.intentions)),
        ),
        (
            "guardian_consent_on",
            b(|v| v.guardian_consent_on.clone()),
            i.guardian_consent_on.clone(),
        ),
        (
            "accompanied",
            b(|v| Some(v.accompanied.to_string())),
            Some(i64::from(i.accompanied).to_string()),
        ),
        (
            "status",
            b(|v| Some(v.status.to_string())),
            Some(i.status.to_string()),
        ),
    ]);
    for (field, given) in [
        ("id_number", i.id_number.is_some()),
        ("mobile", i.mobile.is_some()),
    ] {
        if given {
            c.push(Change::redacted(field));
        }
    }
    c
}
