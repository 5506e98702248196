//! The dashboard's tables as text: the small tables shown on the page (staff, certificates,
//! funding) and every table the dashboard exports (`/stats/{code}/table/{name}.xlsx`).

use std::collections::BTreeMap;

use shegong_domain::people::ServiceKind;
use shegong_store::statistics::counters::Row;

use super::dashboards::Dash;
use crate::ui::forms::format_yuan;
use crate::ui::i18n::Tr;

/// The dashboard's tables, each exportable: charts' data and the small tables.
pub(super) const TABLES: [&str; 9] = [
    "subregions",
    "months",
    "domains",
    "categories",
    "tiers",
    "staff",
    "certificates",
    "funding",
    "wushe",
];

/// The header of table `name`, translated.
pub(super) fn table_header(t: &Tr, name: &str) -> Vec<String> {
    let g = |k: &str| t.get(k).to_owned();
    match name {
        "subregions" => [
            "stats.region",
            "stats.ind.records",
            "stats.ind.person_times",
            "stats.ind.hours",
            "stats.ind.value",
            "stats.ind.people",
            "stats.ind.high_risk",
            "stats.ind.staff",
            "stats.ind.certified",
            "stats.ind.funding",
            "stats.ind.volunteers",
            "stats.ind.volunteer_hours",
            "stats.ind.donated",
            "stats.ind.disbursed",
            "stats.ind.timebank_earned",
            "stats.ind.issues_raised",
        ]
        .map(g)
        .to_vec(),
        "months" => {
            let mut h = vec![g("stats.month")];
            h.extend(
                ServiceKind::ALL
                    .iter()
                    .map(|k| g(&format!("service.kind.{}", k.as_str()))),
            );
            h.push(g("stats.total"));
            h
        }
        "domains" => vec![
            g("stats.domain"),
            g("stats.ind.records"),
            g("stats.ind.person_times"),
        ],
        "categories" => vec![g("stats.category"), g("stats.ind.people")],
        "tiers" => vec![g("stats.tier"), g("stats.ind.people")],
        "staff" => vec![g("stats.role"), g("stats.ind.staff")],
        "certificates" => vec![g("certificate.level_label"), g("stats.ind.staff")],
        "funding" => vec![
            g("stats.source"),
            g("stats.col.stations_funded"),
            g("stats.ind.funding"),
        ],
        "wushe" => vec![
            g("stats.wushe.partner"),
            g("stats.wushe.measure"),
            g("stats.wushe.count"),
            g("stats.ind.hours"),
            g("stats.wushe.value"),
        ],
        _ => vec![],
    }
}

/// The rows of a dashboard table as text (numbers as digits, money in yuan).
pub(super) fn table_rows(t: &Tr, d: &Dash, name: &str) -> Vec<Vec<String>> {
    let label = |prefix: &str, key: &str| t.get(&format!("{prefix}.{key}")).to_owned();
    let keyed = |rows: &[Row], prefix: &str| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| vec![label(prefix, &r.key), r.n.to_string()])
            .collect()
    };
    match name {
        "subregions" => d
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.f.records.to_string(),
                    r.f.person_times.to_string(),
                    r.f.hours.to_string(),
                    r.value.clone(),
                    r.f.people.to_string(),
                    r.f.high_risk.to_string(),
                    r.f.staff.to_string(),
                    r.f.certified.to_string(),
                    r.funding.clone(),
                    r.f.volunteers.to_string(),
                    r.f.volunteer_hours.to_string(),
                    r.donated.clone(),
                    r.disbursed.clone(),
                    r.f.timebank_earned.to_string(),
                    r.f.issues_raised.to_string(),
                ]
            })
            .collect(),
        "months" => (1..=12)
            .map(|m| {
                let month = format!("{:04}-{m:02}", d.year);
                let n = |kind: Option<&str>| -> i64 {
                    d.kinds
                        .iter()
                        .filter(|r| r.month == month && kind.is_none_or(|k| r.key == k))
                        .map(|r| r.n)
                        .sum()
                };
                let mut row = vec![month.clone()];
                row.extend(
                    ServiceKind::ALL
                        .iter()
                        .map(|k| n(Some(k.as_str())).to_string()),
                );
                row.push(n(None).to_string());
                row
            })
            .collect(),
        "domains" => domain_totals(d)
            .into_iter()
            .map(|(k, (n, p))| vec![label("service.domain", k), n.to_string(), p.to_string()])
            .collect(),
        "categories" => d
            .cats
            .iter()
            .rev()
            .map(|(name, n)| vec![name.clone(), n.to_string()])
            .collect(),
        "tiers" => keyed(&d.tiers, "resident.tier"),
        "staff" => keyed(&d.roles, "staff.role"),
        "certificates" => d
            .certs
            .iter()
            .map(|r| {
                let name = if r.key == "none" {
                    t.get("stats.no_certificate").to_owned()
                } else {
                    label("certificate.level", &r.key)
                };
                vec![name, r.n.to_string()]
            })
            .collect(),
        "funding" => d
            .funding
            .iter()
            .map(|r| {
                vec![
                    label("station.source", &r.key),
                    r.n.to_string(),
                    format_yuan(r.value_fen),
                ]
            })
            .collect(),
        "wushe" => wushe_rows(t, d),
        _ => vec![],
    }
}

/// A dashboard table shown as a table: its export name, title, header and rows.
pub(super) struct SmallTable {
    pub name: &'static str,
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Records and person-times of the year per service domain.
pub(super) fn domain_totals(d: &Dash) -> BTreeMap<&str, (i64, i64)> {
    let mut by: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for r in &d.domains {
        let e = by.entry(&r.key).or_default();
        e.0 += r.n;
        e.1 += r.person_times;
    }
    by
}

/// 五社联动: what each of the five partners gave in the year, from the counters — the community
/// (急难愁盼 issues answered), social organisations (services at stations agencies run), social
/// workers (every service record), volunteers (active volunteers, recorded hours) and charity
/// resources (donations of money and goods). "—" where a partner has no such measure.
fn wushe_rows(t: &Tr, d: &Dash) -> Vec<Vec<String>> {
    let f = &d.top;
    let a = &d.by_agencies;
    let none = || "—".to_owned();
    let row = |partner: &str, measure: &str, n: i64, hours: Option<i64>, fen: Option<i64>| {
        vec![
            t.get(&format!("stats.wushe.{partner}")).to_owned(),
            t.get(&format!("stats.wushe.{measure}")).to_owned(),
            n.to_string(),
            hours.map_or_else(none, |h| h.to_string()),
            fen.map_or_else(none, format_yuan),
        ]
    };
    vec![
        row(
            "community",
            "issues_answered",
            f.issues_answered,
            None,
            None,
        ),
        row(
            "social_org",
            "agency_services",
            a.n,
            Some(a.minutes / 60),
            Some(a.value_fen),
        ),
        row(
            "social_worker",
            "services",
            f.records,
            Some(f.hours),
            Some(f.value_fen),
        ),
        row(
            "volunteer",
            "volunteers",
            f.volunteers,
            Some(f.volunteer_hours),
            None,
        ),
        row(
            "charity",
            "donations",
            f.donations,
            None,
            Some(f.donated_fen + f.goods_fen),
        ),
    ]
}
