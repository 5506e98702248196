//! The list reads of issue 20 item 2, timed at the store: the first three pages of the
//! residents and service-record lists of a region, unfiltered and filtered as a user filters them,
//! the count the residents page adds (files the protection rule hides), and a file and a record
//! opened by id. `shegong bench --scale` prints them at both sizes; `shegong bench --lists`
//! times them on a database `demo generate` filled earlier (reads only, after migrating).

use std::time::{Duration, Instant};

use anyhow::Context;
use shegong_domain::{RegionCode, Scope};
use shegong_store::people::residents::{self, Viewer};
use shegong_store::people::services;
use shegong_store::{Db, DbOptions, PageRequest};

use super::TODAY;

/// Runs per list: pages 1, 2, 3 in turn, seven times each (p90 of 21, as before).
const RUNS: i64 = 21;

fn p90(mut d: Vec<Duration>) -> f64 {
    d.sort();
    let i = ((d.len() as f64 - 1.0) * 0.9).round() as usize;
    d.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// One timed list or read: what it is, and its p90 in milliseconds.
pub struct Timing {
    pub label: String,
    pub p90: f64,
}

/// What the filtered lists filter on: a county of the region and one of its residents.
pub struct Targets {
    pub county: String,
    pub resident: String,
}

fn residents_cases(t: &Targets) -> anyhow::Result<Vec<(String, residents::Filter)>> {
    let county = RegionCode::parse(&t.county)?;
    Ok(vec![
        ("residents, unfiltered".into(), residents::Filter::default()),
        (
            "residents, tier high".into(),
            residents::Filter {
                tier: Some("high".into()),
                ..Default::default()
            },
        ),
        (
            "residents, category dibao".into(),
            residents::Filter {
                category: Some("dibao".into()),
                ..Default::default()
            },
        ),
        (
            format!("residents, region {}", t.county),
            residents::Filter {
                region: Some(county.clone()),
                ..Default::default()
            },
        ),
        (
            format!("residents, region {} and tier high", t.county),
            residents::Filter {
                region: Some(county),
                tier: Some("high".into()),
                ..Default::default()
            },
        ),
        // The list's "visits overdue" filter (`due=overdue`: due before today), in due order.
        (
            "residents, visits overdue".into(),
            residents::Filter {
                due_by: Some(overdue_by()?),
                ..Default::default()
            },
        ),
        (
            "residents, name contains 王".into(),
            residents::Filter {
                q: Some("王".into()),
                ..Default::default()
            },
        ),
        // A given name's character, and a whole name: fewer files hold them than a family
        // name, so the list's count walks further before it stops (or reads them all).
        (
            "residents, name contains 明".into(),
            residents::Filter {
                q: Some("明".into()),
                ..Default::default()
            },
        ),
        (
            "residents, name contains 王芳".into(),
            residents::Filter {
                q: Some("王芳".into()),
                ..Default::default()
            },
        ),
    ])
}

/// The day before `TODAY`: what `due=overdue` asks for.
fn overdue_by() -> anyhow::Result<String> {
    let today = chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?;
    Ok(today.pred_opt().context("no day before today")?.to_string())
}

fn services_cases(t: &Targets) -> Vec<(String, services::Filter)> {
    vec![
        (
            "service records, unfiltered".into(),
            services::Filter::default(),
        ),
        (
            "service records, kind visit".into(),
            services::Filter {
                kind: Some("visit".into()),
                ..Default::default()
            },
        ),
        (
            "service records, kind psychological, May 2026".into(),
            services::Filter {
                kind: Some("psychological".into()),
                from: Some("2026-05-01".into()),
                to: Some("2026-05-31".into()),
                ..Default::default()
            },
        ),
        (
            "service records of one resident".into(),
            services::Filter {
                resident: Some(t.resident.clone()),
                ..Default::default()
            },
        ),
    ]
}

/// The viewer of `region`'s lists: its civil-affairs administrator (no protected-files grant).
pub fn viewer(region: &str, user_id: &str) -> anyhow::Result<Viewer> {
    Ok(Viewer {
        scope: Scope::region(RegionCode::parse(region)?),
        user_id: user_id.to_owned(),
        sees_protected: false,
        today: chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d")?,
    })
}

/// Each list's first three pages (20 rows), p90 of 21; the residents page's hidden-files count;
/// a file and a record read by id.
pub async fn list_timings(db: &Db, viewer: &Viewer, t: &Targets) -> anyhow::Result<Vec<Timing>> {
    let mut out = Vec::new();
    let mut c = db.read().await?;
    for (label, f) in residents_cases(t)? {
        residents::list(&mut c, viewer, &f, PageRequest::new(Some(1), Some(20))).await?;
        let mut d = Vec::new();
        for i in 0..RUNS {
            let page = PageRequest::new(Some(1 + i % 3), Some(20));
            let s = Instant::now();
            residents::list(&mut c, viewer, &f, page).await?;
            d.push(s.elapsed());
        }
        out.push(Timing { label, p90: p90(d) });
    }
    for (label, f) in services_cases(t) {
        services::list(&mut c, viewer, &f, PageRequest::new(Some(1), Some(20))).await?;
        let mut d = Vec::new();
        for i in 0..RUNS {
            let page = PageRequest::new(Some(1 + i % 3), Some(20));
            let s = Instant::now();
            services::list(&mut c, viewer, &f, page).await?;
            d.push(s.elapsed());
        }
        out.push(Timing { label, p90: p90(d) });
    }
    let mut d = Vec::new();
    for _ in 0..RUNS {
        let s = Instant::now();
        residents::hidden_protected(&mut c, viewer, &residents::Filter::default(), false).await?;
        d.push(s.elapsed());
    }
    out.push(Timing {
        label: "residents page's count of files hidden from the viewer".into(),
        p90: p90(d),
    });
    let first = services::list(
        &mut c,
        viewer,
        &services::Filter::default(),
        PageRequest::new(Some(1), Some(20)),
    )
    .await?;
    let ids: Vec<String> = first.items.iter().map(|s| s.id.clone()).collect();
    let people: Vec<String> = first
        .items
        .iter()
        .filter_map(|s| s.resident_id.clone())
        .collect();
    let mut d = Vec::new();
    for i in 0..RUNS as usize {
        let id = ids
            .get(i % ids.len().max(1))
            .context("no service records")?;
        let s = Instant::now();
        services::get(&mut c, viewer, id).await?;
        d.push(s.elapsed());
    }
    out.push(Timing {
        label: "a service record by id".into(),
        p90: p90(d),
    });
    let mut d = Vec::new();
    for i in 0..RUNS as usize {
        let id = people
            .get(i % people.len().max(1))
            .context("no residents")?;
        let s = Instant::now();
        residents::get(&mut c, viewer, id).await?;
        d.push(s.elapsed());
    }
    out.push(Timing {
        label: "a resident's file by id".into(),
        p90: p90(d),
    });
    Ok(out)
}

/// The targets of the filtered lists in `region`: the county of its newest resident, and the
/// resident of its newest service record.
pub async fn targets(db: &Db, viewer: &Viewer) -> anyhow::Result<Targets> {
    let mut c = db.read().await?;
    let r = residents::list(
        &mut c,
        viewer,
        &residents::Filter::default(),
        PageRequest::new(Some(1), Some(1)),
    )
    .await?;
    let county = r
        .items
        .first()
        .and_then(|r| r.region_code.get(..6))
        .context("no residents in the region")?
        .to_owned();
    let s = services::list(
        &mut c,
        viewer,
        &services::Filter::default(),
        PageRequest::new(Some(1), Some(1)),
    )
    .await?;
    let resident = s
        .items
        .first()
        .and_then(|s| s.resident_id.clone())
        .context("no service records in the region")?;
    Ok(Targets { county, resident })
}

pub fn print(timings: &[Timing]) {
    println!("| list read (store), p90 of 21 | ms |");
    println!("| --- | --- |");
    for t in timings {
        println!("| {} | {:.2} |", t.label, t.p90);
    }
}

/// `shegong bench --lists --target-url URL [--region CODE]`: the list reads on a database that
/// `demo generate` filled. It brings the schema up to date (as the server would) and writes
/// nothing else.
pub async fn lists_command(url: String, region: &str) -> anyhow::Result<()> {
    let mut opts = DbOptions::new(&url);
    crate::cli::sqlite_caches_from_env(&mut opts.caches)?;
    let db = Db::open(&opts).await?;
    println!(
        "list reads of {region} on {} ({})",
        db.backend().as_str(),
        shegong_store::db_url_redacted(&url)
    );
    let viewer = viewer(region, "bench-lists")?;
    let t = Instant::now();
    let targets = targets(&db, &viewer).await?;
    println!(
        "targets: county {}, resident {} ({:.0} ms)",
        targets.county,
        targets.resident,
        t.elapsed().as_secs_f64() * 1000.0
    );
    print(&list_timings(&db, &viewer, &targets).await?);
    Ok(())
}
