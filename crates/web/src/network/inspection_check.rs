//! The checks of an inspection plan and an inspection visit, one place for each rule: the page
//! forms and the API (`POST /api/v1/inspections/plans`, `POST /api/v1/inspections/visits`) hand
//! their fields in as entered and get the store's input back, or every field error named (a
//! rectification row by its number). The store checks what needs the database (scope, the plan,
//! the checklist) again inside the write.

use shegong_domain::FieldError;
use shegong_domain::network::station::{parse_latitude, parse_longitude};
use shegong_store::network::inspections::{
    MAX_RECT_ROWS, PlanInput, RectificationInput, VisitInput, rect_field,
};

use crate::ui::forms::Check;

/// A plan as entered.
pub struct PlanFields<'a> {
    pub region: &'a str,
    pub title: &'a str,
    pub starts_on: &'a str,
    pub ends_on: &'a str,
    pub notes: &'a str,
}

/// Check a plan: a title of at most 100 characters, two dates, notes of at most 2,000.
pub fn check_plan(f: &PlanFields) -> Result<PlanInput, Vec<FieldError>> {
    let mut c = Check::default();
    let title = c.text("title", f.title, 100);
    let starts_on = c.date("starts_on", f.starts_on);
    let ends_on = c.date("ends_on", f.ends_on);
    let notes = c.opt_text("notes", f.notes, 2000);
    c.finish()?;
    Ok(PlanInput {
        region: f.region.to_owned(),
        title,
        starts_on,
        ends_on,
        notes,
    })
}

/// One rectification row as entered, with its row number (from 1).
pub struct RectRowFields {
    pub n: usize,
    pub description: String,
    pub owner: String,
    pub deadline: String,
}

/// A visit as entered. `results` are (checklist item, met, note) of the items rated;
/// `rects` the rows filled in (the form leaves its blank rows out, keeping the others' numbers).
pub struct VisitFields {
    pub plan: String,
    pub station: String,
    pub visited_on: String,
    pub inspector: String,
    pub findings: String,
    pub lng: String,
    pub lat: String,
    pub results: Vec<(String, bool, String)>,
    pub rects: Vec<RectRowFields>,
}

/// Check a visit against the checklist `items` of its station's region: a date, an inspector,
/// coordinates when given, each item rated once and only items of the checklist, each
/// rectification row with its content, owner and a deadline not before the visit, and something
/// recorded (a rating, findings or a rectification).
pub fn check_visit(f: VisitFields, items: &[String]) -> Result<VisitInput, Vec<FieldError>> {
    let mut c = Check::default();
    let visited_on = c.date("visited_on", f.visited_on.trim());
    let inspector = c.text("inspector", f.inspector.trim(), 50);
    let findings = c.opt_text("findings", &f.findings, 4000);
    let lng_e6 = match f.lng.trim() {
        "" => None,
        v => c.take(parse_longitude(v)),
    };
    let lat_e6 = match f.lat.trim() {
        "" => None,
        v => c.take(parse_latitude(v)),
    };
    let mut seen: Vec<&str> = Vec::new();
    for (item, _, _) in &f.results {
        if !items.contains(item) {
            c.fail("results", "indicator.not_applicable");
        } else if seen.contains(&item.as_str()) {
            c.fail("results", "inspection.rated_twice");
        }
        seen.push(item);
    }
    if f.rects.len() > MAX_RECT_ROWS {
        c.fail("rectifications", "rectification.too_many");
    }
    let rectifications = check_rect_rows(&mut c, &f.rects, &visited_on);
    // Something must be recorded (a rating, findings or a rectification), not just the date and
    // inspector the form opens with.
    if f.results.is_empty() && findings.trim().is_empty() && rectifications.is_empty() {
        c.fail("results", "inspection.nothing_recorded");
    }
    c.finish()?;
    Ok(VisitInput {
        plan_id: Some(f.plan.trim().to_owned()).filter(|p| !p.is_empty()),
        station_id: f.station,
        visited_on,
        inspector,
        lng_e6,
        lat_e6,
        findings,
        results: f
            .results
            .into_iter()
            .map(|(item, met, note)| (item, met, note.chars().take(500).collect()))
            .collect(),
        rectifications,
    })
}

/// Each row: content and owner required, a deadline that is a date not before the visit.
fn check_rect_rows(
    c: &mut Check,
    rows: &[RectRowFields],
    visited_on: &str,
) -> Vec<RectificationInput> {
    let mut out = Vec::new();
    for r in rows.iter().take(MAX_RECT_ROWS) {
        let (desc, owner) = (r.description.trim(), r.owner.trim());
        if desc.is_empty() {
            c.fail(rect_field("desc", r.n), "rectification.incomplete");
        }
        if owner.is_empty() {
            c.fail(rect_field("owner", r.n), "rectification.incomplete");
        }
        let deadline = c.date(rect_field("deadline", r.n), r.deadline.trim());
        if !deadline.is_empty() && !visited_on.is_empty() && deadline.as_str() < visited_on {
            c.fail(
                rect_field("deadline", r.n),
                "rectification.deadline_before_visit",
            );
        }
        out.push(RectificationInput {
            description: desc.chars().take(1000).collect(),
            owner: owner.chars().take(50).collect(),
            deadline,
        });
    }
    out
}
