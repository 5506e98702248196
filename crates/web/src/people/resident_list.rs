//! The resident list with its filters, and its spreadsheet export (masked unless revealed).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shegong_domain::people::ResidentStatus;
use shegong_domain::{FieldError, Permission, RegionCode};
use shegong_store::PageRequest;
use shegong_store::admin::audit::Change;
use shegong_store::people::households;
use shegong_store::people::households::{Category, Membership};
use shegong_store::people::residents::{self, Filter, Resident, Viewer};
use utoipa::IntoParams;

use crate::http::auth::Ctx;
use crate::http::auth::reader;
use crate::http::error::WebResult;
use crate::http::render::{Base, Crumb, page};
use crate::http::state::AppState;
use crate::ui::excel::{self, Cell, Export, Selection};
use crate::ui::i18n::Tr;
use crate::ui::list::{Pager, pager, table_pairs};

use super::residents::{Choices, category_label, choices, masked, opened, viewer};

#[derive(Deserialize, IntoParams, Default, Clone)]
pub struct ListQuery {
    /// Name contains.
    pub q: Option<String>,
    pub region: Option<String>,
    /// A category code from the catalogue (held today).
    pub category: Option<String>,
    /// `high`, `key` or `general`.
    pub tier: Option<String>,
    /// `active` (default), `moved_out`, `deceased`, `merged` or `all`.
    pub status: Option<String>,
    /// `overdue`, `today` or `week`: visits due.
    pub due: Option<String>,
    /// `me`: assigned to the signed-in account.
    pub mine: Option<String>,
    /// Order: `name`, `birth_date`, `region`, `tier`, `next_due` or `created`, `-` before it for
    /// descending; any other value is the default order (newest first).
    pub sort: Option<String>,
    /// Past the last page the API answers an empty page with the correct total (list pages
    /// redirect to the last page).
    pub page: Option<i64>,
    /// 10, 20 (default), 50 or 100 on pages; the API takes up to 200.
    pub per_page: Option<i64>,
    #[serde(default)]
    #[param(ignore)]
    pub notice: Option<String>,
}

impl ListQuery {
    pub(super) fn filter(&self, v: &Viewer) -> Filter {
        let s = |o: &Option<String>| o.clone().filter(|x| !x.is_empty());
        let due_by = match self.due.as_deref() {
            Some("overdue") => Some(v.today.pred_opt().unwrap_or(v.today).to_string()),
            Some("today") => Some(v.today.to_string()),
            Some("week") => Some((v.today + chrono::Duration::days(7)).to_string()),
            _ => None,
        };
        Filter {
            q: s(&self.q),
            region: s(&self.region).and_then(|r| RegionCode::parse(&r).ok()),
            category: s(&self.category),
            tier: s(&self.tier),
            status: s(&self.status),
            worker: (self.mine.as_deref() == Some("me")).then(|| v.user_id.clone()),
            due_by,
            ids: None,
            sort: self.sort(),
        }
    }

    fn sort(&self) -> Option<shegong_store::Sort> {
        shegong_store::Sort::parse(self.sort.as_deref(), residents::SORTS)
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let [sort, size] = table_pairs(self.sort(), self.per_page);
        vec![
            ("q", v(&self.q)),
            ("region", v(&self.region)),
            ("category", v(&self.category)),
            ("tier", v(&self.tier)),
            ("status", v(&self.status)),
            ("due", v(&self.due)),
            ("mine", v(&self.mine)),
            sort,
            size,
        ]
    }
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub id_masked: String,
    pub sex: String,
    pub birth_date: String,
    pub region: String,
    pub categories: String,
    pub tier: String,
    pub tier_code: String,
    pub worker: String,
    pub next_due: String,
    pub overdue: bool,
    pub status: String,
}

fn rows(
    state: &AppState,
    t: &Tr,
    v: &Viewer,
    list: &[Resident],
    members: &[Membership],
    cats: &[Category],
) -> Vec<Row> {
    let today_s = v.today.to_string();
    list.iter()
        .map(|r| {
            let held: Vec<String> = members
                .iter()
                .filter(|m| m.resident_id == r.id && m.active_on(&today_s))
                .map(|m| category_label(t, cats, &m.category))
                .collect();
            Row {
                id: r.id.clone(),
                name: r.name.clone(),
                id_masked: masked(state, r).id_number,
                sex: r
                    .sex
                    .as_deref()
                    .map(|s| t.get(&format!("person.sex.{s}")).to_owned())
                    .unwrap_or_default(),
                birth_date: r.birth_date.clone(),
                region: shegong_domain::network::region::display_path(
                    r.region_path.split('/').skip(2),
                ),
                categories: held.join("、"),
                tier: t.get(&format!("resident.tier.{}", r.risk_tier)).to_owned(),
                tier_code: r.risk_tier.to_string(),
                worker: r.worker_name.clone().unwrap_or_default(),
                overdue: r.status == ResidentStatus::Active && r.next_visit_due < today_s,
                next_due: r.next_visit_due.clone(),
                status: t.get(&format!("resident.status.{}", r.status)).to_owned(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "people/residents/list.html")]
struct ListPage {
    t: Tr,
    base: Base,
    rows: Vec<Row>,
    pager: Pager,
    q: ListQuery,
    choices: Choices,
    export_href: String,
    can_write: bool,
    can_export: bool,
    /// Files matching the filter that the protection rule hides from this viewer.
    hidden: i64,
}

pub async fn list_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let u = reader(&ctx)?;
    let t = ctx.tr();
    let v = viewer(&state, u);
    let (choices, cats) = choices(&state, &t, &v.scope).await?;
    let (data, members, hidden) = {
        let mut c = state.db.read().await?;
        let filter = q.filter(&v);
        let data =
            residents::list(&mut c, &v, &filter, PageRequest::sized(q.page, q.per_page)).await?;
        let ids: Vec<&str> = data.items.iter().map(|r| r.id.as_str()).collect();
        let members = households::memberships_of(&mut c, &v, &ids).await?;
        let hidden = residents::hidden_protected(&mut c, &v, &filter, data.capped).await?;
        (data, members, hidden)
    };
    let pairs = q.pairs();
    let title = t.get("menu.residents");
    Ok(page(
        StatusCode::OK,
        &ListPage {
            t,
            base: Base::new(&ctx, title, vec![Crumb::here(title)])
                .with_notice(&t, q.notice.as_deref()),
            rows: rows(&state, &t, &v, &data.items, &members, &cats),
            pager: pager(&t, &data, "/residents", &pairs)?,
            export_href: format!(
                "/residents/export.xlsx?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            ),
            choices,
            can_write: u.can(Permission::WriteData),
            can_export: u.can(Permission::Export),
            hidden,
            q,
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(flatten)]
    list: ListQuery,
    /// `1`: identity numbers and phones in full (needs the reveal permission and a reason).
    full: Option<String>,
    /// Only these residents (comma-separated ids of a batch selection, at most 200; each must
    /// be in the caller's scope).
    ids: Option<String>,
    reason: Option<String>,
}

/// Export of the filtered list: masked, unless the exporter holds the reveal permission and asks
/// for full values with a reason (then the audit entry says so).
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(e): Query<ExportQuery>,
) -> WebResult<Response> {
    let export = Export::check(&ctx, "residents", Permission::Export)?;
    let u = export.user();
    let full = e.full.as_deref() == Some("1");
    let reason = e.reason.clone().unwrap_or_default();
    if full {
        u.require(Permission::RevealSensitive)?;
        if reason.trim().chars().count() < 2 {
            return Err(FieldError::new("reason", "reveal.reason_required").into());
        }
    }
    let t = ctx.tr();
    let v = viewer(&state, u);
    let (_, cats) = choices(&state, &t, &v.scope).await?;
    let mut filter = e.list.filter(&v);
    let ids = {
        let mut c = state.db.read().await?;
        if let Some(ids) = e.ids.as_deref().filter(|s| !s.trim().is_empty()) {
            let ids = split_ids(ids);
            residents::batch(&mut c, &v, &ids).await?;
            filter = residents::Filter {
                status: Some("all".into()),
                ids: Some(ids),
                ..Default::default()
            };
        }
        residents::list_ids(&mut c, &v, &filter, excel::MAX_ROWS).await?
    };
    let headers = [
        "resident.name",
        "resident.id_number",
        "resident.sex",
        "resident.birth_date",
        "resident.ethnicity",
        "resident.region",
        "resident.address",
        "resident.phone",
        "resident.categories",
        "resident.risk_tier",
        "resident.worker",
        "resident.last_visit",
        "resident.next_due",
        "common.status",
    ]
    .map(|k| t.get(k));
    let audit_note = if full {
        vec![
            Change::new("identity", None::<String>, Some("full")),
            Change::new("reason", None::<String>, Some(reason.trim())),
        ]
    } else {
        vec![Change::new("identity", None::<String>, Some("masked"))]
    };
    let pages = ExportPages {
        state: state.clone(),
        t,
        v,
        cats,
        full,
        ids: Selection::new(ids),
    };
    export
        .stream(&state, &ctx, "menu.residents", &headers, pages, audit_note)
        .await
}

/// The export's files, read and turned into rows a page at a time.
struct ExportPages {
    state: AppState,
    t: Tr,
    v: Viewer,
    cats: Vec<Category>,
    /// Identity numbers, addresses and phones in full (the reveal was checked and audited).
    full: bool,
    ids: Selection,
}

impl excel::Pages for ExportPages {
    fn selected(&self) -> usize {
        self.ids.selected()
    }

    async fn next(&mut self) -> WebResult<Vec<Vec<Cell>>> {
        let (list, members) = loop {
            let ids = self.ids.next_page();
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut c = self.state.db.read().await?;
            let list = residents::page_of(&mut c, &self.v, &ids).await?;
            if list.is_empty() {
                // Every file of this page changed since the selection: on to the next.
                continue;
            }
            let ids: Vec<&str> = list.iter().map(|r| r.id.as_str()).collect();
            let members = households::memberships_of(&mut c, &self.v, &ids).await?;
            break (list, members);
        };
        let (state, t) = (&self.state, &self.t);
        let table = rows(state, t, &self.v, &list, &members, &self.cats);
        Ok(list
            .iter()
            .zip(table)
            .map(|(r, row)| {
                let m = if self.full {
                    opened(state, r)
                } else {
                    masked(state, r)
                };
                vec![
                    row.name.into(),
                    m.id_number.into(),
                    row.sex.into(),
                    row.birth_date.into(),
                    r.ethnicity.as_str().into(),
                    row.region.into(),
                    m.address.into(),
                    m.phone.into(),
                    row.categories.into(),
                    row.tier.into(),
                    row.worker.into(),
                    r.last_visit_on.clone().unwrap_or_default().into(),
                    row.next_due.into(),
                    row.status.into(),
                ]
            })
            .collect())
    }
}

/// A batch selection as a form or query sends it: ids separated by commas (at most 201 kept,
/// so an over-long selection is refused by the store rather than cut).
pub fn split_ids(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .take(residents::BATCH_MAX + 1)
        .map(str::to_string)
        .collect()
}
