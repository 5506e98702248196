//! `shegong bench --scale <name>`: the measurements the statistics issue asks for, in one run on
//! the data `generate` makes, small first and then at the scale's full size (see
//! docs/performance.md): dashboards from the counters and by full scans, the dashboard pages,
//! lists, API writes, the database's raw commit rate and an import through the pages.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use shegong_domain::{RegionCode, Role, Scope};
use shegong_store::crypto::KeyRing;

use shegong_store::statistics::counters::{self, Dim, Regions};
use shegong_store::{Db, PageRequest, admin::tokens, bench, people::services};

use super::{
    NOW, TODAY, World, add_services, county_of, generate, open_empty, resident_key, scale,
};

fn pct(mut d: Vec<Duration>, p: f64) -> f64 {
    d.sort();
    let i = ((d.len() as f64 - 1.0) * p).round() as usize;
    d.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The counter reads the dashboard of `code` makes (see web/src/statistics.rs): each figure for
/// the region and its sub-regions, the months by kind and domain, people by tier and category,
/// staff, funding, visit due dates and elderly visits.
async fn dashboard_reads(db: &Db, code: &str) -> anyhow::Result<()> {
    let mut c = db.read().await?;
    for (dim, from, to) in [
        (Dim::Kind, "2025-06", "2026-05"),
        (Dim::Tier, "", ""),
        (Dim::StaffCert, "", ""),
        (Dim::Funding, "2026", "2026"),
    ] {
        counters::read(
            &mut c,
            &Scope::national(),
            Regions::One(code),
            dim,
            from,
            to,
        )
        .await?;
        counters::read(
            &mut c,
            &Scope::national(),
            Regions::ChildrenOf(code),
            dim,
            from,
            to,
        )
        .await?;
    }
    counters::read(
        &mut c,
        &Scope::national(),
        Regions::One(code),
        Dim::Domain,
        "2025-06",
        "2026-05",
    )
    .await?;
    for dim in [Dim::Category, Dim::StaffRole, Dim::Due, Dim::ElderlyVisit] {
        counters::read(&mut c, &Scope::national(), Regions::One(code), dim, "", "").await?;
    }
    Ok(())
}

/// The same figures by a grouped scan of the raw tables (what a dashboard without counters does).
async fn dashboard_scan(db: &Db, code: &str) -> anyhow::Result<()> {
    let mut c = db.read().await?;
    let region = RegionCode::parse(code)?;
    let child = region.level().child().map_or(12, |l| l.code_len()) as i64;
    let scope = Scope::region(region);
    bench::dashboard_by_scan(&mut c, &scope, child, "2025-06-01", "2026-05-31").await?;
    Ok(())
}

struct Sample {
    label: String,
    p50: f64,
    p90: f64,
    p95: f64,
}

async fn time_dashboard(
    db: &Db,
    code: &str,
    runs: usize,
    scan_runs: usize,
) -> anyhow::Result<(Sample, Sample)> {
    dashboard_reads(db, code).await?;
    let mut d = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        dashboard_reads(db, code).await?;
        d.push(t.elapsed());
    }
    let mut s = Vec::new();
    for _ in 0..scan_runs {
        let t = Instant::now();
        dashboard_scan(db, code).await?;
        s.push(t.elapsed());
    }
    Ok((
        Sample {
            label: code.into(),
            p50: pct(d.clone(), 0.5),
            p90: pct(d.clone(), 0.9),
            p95: pct(d, 0.95),
        },
        Sample {
            label: code.into(),
            p50: pct(s.clone(), 0.5),
            p90: pct(s.clone(), 0.9),
            p95: pct(s, 0.95),
        },
    ))
}

/// The lists and reads by id at the store (`lists::list_timings`), as the region's
/// administrator.
async fn list_reads(w: &World, region: &str) -> anyhow::Result<Vec<super::lists::Timing>> {
    let viewer = super::lists::viewer(region, &w.admin_id)?;
    let targets = super::lists::targets(&w.db, &viewer).await?;
    super::lists::list_timings(&w.db, &viewer, &targets).await
}

/// The list pages and detail pages through the router as the signed-in administrator: the
/// first three pages of each list (p90 of 21), a file and a record (p90 of 21, seven of each).
async fn page_reads(w: &World, b: &mut Browser, region: &str) -> anyhow::Result<Vec<Sample>> {
    let viewer = super::lists::viewer(region, &w.admin_id)?;
    let mut c = w.db.read().await?;
    let first = services::list(
        &mut c,
        &viewer,
        &services::Filter::default(),
        PageRequest::new(Some(1), Some(20)),
    )
    .await?;
    drop(c);
    let records: Vec<String> = first
        .items
        .iter()
        .take(7)
        .map(|s| format!("/services/{}", s.id))
        .collect();
    let files: Vec<String> = first
        .items
        .iter()
        .filter_map(|s| s.resident_id.as_ref())
        .take(7)
        .map(|r| format!("/residents/{r}"))
        .collect();
    let pages = |base: &str, filter: &str| -> Vec<String> {
        (1..=3)
            .map(|p| format!("{base}?{filter}page={p}"))
            .collect()
    };
    let mut out = Vec::new();
    for (label, paths) in [
        ("GET /residents, pages 1–3", pages("/residents", "")),
        (
            "GET /residents?tier=high, pages 1–3",
            pages("/residents", "tier=high&"),
        ),
        ("GET /services, pages 1–3", pages("/services", "")),
        (
            "GET /services?kind=visit, pages 1–3",
            pages("/services", "kind=visit&"),
        ),
        ("GET /residents/{id} (a file)", files),
        ("GET /services/{id} (a record)", records),
    ] {
        out.push(time_paths(b, &paths, label, 21).await?);
    }
    Ok(out)
}

/// API writes through the real router (bearer token, JSON, audit entry, counters), by one client
/// and by eight at once, against the database's own single-row durable commit rate. Residents
/// below 20,000 are adults, so never protected.
async fn write_rates(w: &World, n: usize) -> anyhow::Result<Writes> {
    let mut tx = w.db.begin().await?;
    let (_, secret) = tokens::create(&mut tx, &w.admin_id, "bench", NOW).await?;
    bench::create_commit_probe(&mut tx).await?;
    tx.commit().await?;
    let keys = KeyRing::from_spec(&w.spec)?;
    let config = shegong_web::Config {
        database_url: String::new(),
        ..Default::default()
    };
    let state = shegong_web::AppState::new(
        w.db.clone(),
        config,
        std::sync::Arc::new(|| NOW + 3_600_000),
        keys,
    );
    let router = shegong_web::router(state);
    let adults = w.residents.min(20_000);
    let t = Instant::now();
    for i in 0..n {
        post_visit(&router, &secret, resident_key(i * 7919 % adults)).await?;
    }
    let sequential = n as f64 / t.elapsed().as_secs_f64();
    // Eight clients at once, each recording visits to people of its own (no shared resident row;
    // they do share the audit chain's head and, on SQLite, the single writer).
    const CLIENTS: usize = 8;
    let grouped = w.db.grouped_counts();
    let t = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let (router, secret) = (router.clone(), secret.clone());
        clients.spawn(async move {
            for j in 0..n / CLIENTS {
                post_visit(&router, &secret, resident_key((j * CLIENTS + c) % adults)).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = clients.join_next().await {
        done??;
    }
    let concurrent = (n / CLIENTS * CLIENTS) as f64 / t.elapsed().as_secs_f64();
    let (kept, commits) = w.db.grouped_counts();
    let per_commit = (kept - grouped.0) as f64 / (commits - grouped.1).max(1) as f64;
    let t = Instant::now();
    for i in 0..n {
        let mut tx = w.db.begin().await?;
        bench::insert_commit_probe(&mut tx, &format!("c{i}"), i as i64).await?;
        tx.commit().await?;
    }
    let raw = n as f64 / t.elapsed().as_secs_f64();
    Ok(Writes {
        sequential,
        concurrent,
        raw,
        per_commit,
    })
}

/// Service records written per second through the API, and the database's durable commit rate.
struct Writes {
    sequential: f64,
    concurrent: f64,
    raw: f64,
    /// Writes per group commit with eight clients.
    per_commit: f64,
}

/// A home visit recorded through `POST /api/v1/services` with a bearer token.
async fn post_visit(router: &axum::Router, secret: &str, resident: String) -> anyhow::Result<()> {
    use tower::ServiceExt;
    let body = serde_json::json!({
        "kind": "visit", "domain": "elderly", "resident_id": resident, "served_on": TODAY,
        "duration_minutes": 30, "method": "home", "workers": "王芳"
    })
    .to_string();
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/services")
        .header("host", "localhost")
        .header("authorization", format!("Bearer {secret}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))?;
    let res = router.clone().oneshot(req).await?;
    if res.status() != axum::http::StatusCode::CREATED {
        bail!("API write answered {}", res.status());
    }
    Ok(())
}

/// A browser-like client: cookies, the CSRF token of the last page.
pub(super) struct Browser {
    to: Transport,
    cookies: std::collections::BTreeMap<String, String>,
}

/// Where a [`Browser`]'s requests go.
enum Transport {
    /// The in-process router.
    Router(axum::Router),
    /// A server process, over one keep-alive HTTP/1 connection (opened again when closed).
    Remote {
        addr: std::net::SocketAddr,
        conn: Option<hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>>,
    },
}

/// An answer read whole: status, `Location` and body.
type Answer = (u16, String, String);

impl Browser {
    /// A browser of a server process at `addr`, not signed in.
    pub(super) fn remote(addr: std::net::SocketAddr) -> Browser {
        Browser {
            to: Transport::Remote { addr, conn: None },
            cookies: Default::default(),
        }
    }

    pub(super) async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(String, Vec<u8>)>,
    ) -> anyhow::Result<Answer> {
        let host = match &self.to {
            Transport::Router(_) => "localhost".to_owned(),
            Transport::Remote { addr, .. } => addr.to_string(),
        };
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", host);
        if !self.cookies.is_empty() {
            req = req.header(
                "cookie",
                self.cookies
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
        }
        let bytes = match body {
            Some((ct, b)) => {
                req = req.header("content-type", ct);
                b
            }
            None => Vec::new(),
        };
        let (parts, bytes) = match &mut self.to {
            Transport::Router(router) => {
                use tower::ServiceExt;
                let res = router
                    .clone()
                    .oneshot(req.body(axum::body::Body::from(bytes))?)
                    .await?;
                let (parts, body) = res.into_parts();
                (parts, axum::body::to_bytes(body, 64 << 20).await?)
            }
            Transport::Remote { addr, conn } => {
                use http_body_util::BodyExt;
                let mut sender = match conn.take() {
                    Some(s) if !s.is_closed() => s,
                    _ => {
                        let stream = tokio::net::TcpStream::connect(*addr).await?;
                        let (sender, c) = hyper::client::conn::http1::handshake(
                            hyper_util::rt::TokioIo::new(stream),
                        )
                        .await?;
                        tokio::spawn(c);
                        sender
                    }
                };
                sender.ready().await?;
                let res = sender
                    .send_request(req.body(http_body_util::Full::new(bytes::Bytes::from(bytes)))?)
                    .await?;
                let (parts, body) = res.into_parts();
                let bytes = body.collect().await?.to_bytes();
                *conn = Some(sender);
                (parts, bytes)
            }
        };
        for v in parts.headers.get_all("set-cookie") {
            let v = v.to_str()?;
            if let Some((k, val)) = v.split(';').next().and_then(|kv| kv.split_once('=')) {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let location = parts
            .headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((
            parts.status.as_u16(),
            location,
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }

    /// Sign in with the login form.
    pub(super) async fn sign_in(&mut self, username: &str, password: &str) -> anyhow::Result<()> {
        let (_, _, login) = self.send("GET", "/login", None).await?;
        let form = format!(
            "_csrf={}&username={username}&password={password}",
            Browser::csrf(&login)
        );
        let (st, _, _) = self
            .send(
                "POST",
                "/login",
                Some((
                    "application/x-www-form-urlencoded".into(),
                    form.into_bytes(),
                )),
            )
            .await?;
        if st != 303 {
            bail!("bench account could not sign in ({st})");
        }
        Ok(())
    }

    /// The page's CSRF token: a form's hidden field, else the page head's (every page has it).
    pub(super) fn csrf(html: &str) -> String {
        ["name=\"_csrf\" value=\"", "name=\"csrf-token\" content=\""]
            .into_iter()
            .find_map(|marker| html.split(marker).nth(1)?.split('"').next())
            .unwrap_or_default()
            .to_owned()
    }
}

/// The password of the bench's accounts.
pub(super) const PASSWORD: &str = "Bench-Account-2026";

/// A browser signed in to a new in-process server as a new civil-affairs administrator of
/// `region` (the server's clock two hours after the data's).
pub(super) async fn signed_in(w: &World, username: &str, region: &str) -> anyhow::Result<Browser> {
    let state = account(w, username, region, NOW).await?;
    let mut b = Browser {
        to: Transport::Router(shegong_web::router(state)),
        cookies: Default::default(),
    };
    b.sign_in(username, PASSWORD).await?;
    Ok(b)
}

/// A new civil-affairs administrator of `region` with the password [`PASSWORD`], created `at`
/// as the users page does (a server whose clock is far past `at` asks for a new password);
/// the in-process server's state it was created with.
pub(super) async fn account(
    w: &World,
    username: &str,
    region: &str,
    at: i64,
) -> anyhow::Result<shegong_web::AppState> {
    // The bench's account signs in with its password alone (no second factor to enrol).
    let config = shegong_web::Config {
        database_url: String::new(),
        twofactor_for_administrators: false,
        ..Default::default()
    };
    let state = shegong_web::AppState::new(
        w.db.clone(),
        config.clone(),
        std::sync::Arc::new(|| NOW + 7_200_000),
        KeyRing::from_spec(&w.spec)?,
    );
    shegong_web::admin::users::create_user(
        &w.db,
        &config.password,
        shegong_web::http::write::Author::Operator(&shegong_store::admin::audit::Actor::system(
            "bench",
        )),
        shegong_web::admin::users::CreateUser {
            username: username.into(),
            display_name: username.into(),
            role: Role::CivilAffairsAdmin,
            scope: Scope::region(RegionCode::parse(region)?),
            password: Some(PASSWORD.into()),
            temporary: false,
            is_demo: false,
        },
        at,
    )
    .await
    .map_err(|e| anyhow::anyhow!("bench account: {e:?}"))?;
    Ok(state)
}

/// The whole dashboard page (`GET /stats/{code}`: session, counters, the station network,
/// the template), p50 / p95 of `runs`.
async fn time_page(b: &mut Browser, code: &str, runs: usize) -> anyhow::Result<Sample> {
    time_path(b, &format!("/stats/{code}"), code, runs).await
}

/// `GET path` through the router as the signed-in account, p50 / p95 of `runs` (after one
/// warm-up request).
async fn time_path(
    b: &mut Browser,
    path: &str,
    label: &str,
    runs: usize,
) -> anyhow::Result<Sample> {
    time_paths(b, &[path.to_owned()], label, runs).await
}

/// `GET` each of `paths` in turn through the router, `runs` requests in all after one warm-up
/// request of each: p50, p90 and p95.
async fn time_paths(
    b: &mut Browser,
    paths: &[String],
    label: &str,
    runs: usize,
) -> anyhow::Result<Sample> {
    for path in paths {
        b.send("GET", path, None).await?;
    }
    let mut d = Vec::new();
    for i in 0..runs {
        let path = paths
            .get(i % paths.len().max(1))
            .context("no path to time")?;
        let t = Instant::now();
        let (st, _, _) = b.send("GET", path, None).await?;
        if st != 200 {
            bail!("{path} answered {st}");
        }
        d.push(t.elapsed());
    }
    Ok(Sample {
        label: label.into(),
        p50: pct(d.clone(), 0.5),
        p90: pct(d.clone(), 0.9),
        p95: pct(d, 0.95),
    })
}

/// Excel import of a resident roll through the real pages (upload, preview, commit), rows/s.
async fn import_rate(w: &World, rows: usize) -> anyhow::Result<f64> {
    let city = w
        .townships
        .first()
        .and_then(|t| t.get(..4))
        .context("no townships")?;
    let mut b = signed_in(w, "scale_importer", city).await?;
    let (_, _, page) = b.send("GET", "/residents/import", None).await?;
    let token = Browser::csrf(&page);
    let mut csv = String::from("姓名,出生日期,居住地区划代码,风险等级,对象类别\n");
    // Distinct people: within a township no two share a first character, and birth dates are
    // all different, so none is a likely duplicate of another.
    const FIRST: &str = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许吕施张孔曹严华金陶姜戚谢邹喻柏水窦云苏潘葛奚范彭郎鲁昌马苗凤花方任袁柳鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐时傅皮卞齐康伍元卜顾孟平黄穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危";
    let first: Vec<char> = FIRST.chars().collect();
    let day0 = NaiveDate::from_ymd_opt(1940, 1, 1).context("1940-01-01")?;
    // Spread over 20 townships (fewer at the smoke scale).
    let spread = w.townships.len().clamp(1, 20);
    for n in 0..rows {
        let initial = first
            .get((n / spread) % first.len())
            .copied()
            .unwrap_or('赵');
        let name = format!("{initial}导入{n}");
        let born = day0 + chrono::Duration::days(n as i64);
        let township = w.townships.get(n % spread).context("no townships")?;
        csv.push_str(&format!("{name},{born},{township},一般,低保\n"));
    }
    let boundary = "----shegongbench";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n"
    )
    .into_bytes();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"roll.csv\"\r\nContent-Type: text/csv\r\n\r\n").into_bytes());
    body.extend(csv.into_bytes());
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let t = Instant::now();
    let (st, preview_at, text) = b
        .send(
            "POST",
            "/residents/import",
            Some((format!("multipart/form-data; boundary={boundary}"), body)),
        )
        .await?;
    if st != 303 {
        bail!(
            "import upload answered {st}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    let (_, _, preview) = b.send("GET", &preview_at, None).await?;
    let action = preview
        .split("action=\"/residents/import/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .with_context(|| "no commit form on the preview")?;
    let form = format!("_csrf={}&mode=valid", Browser::csrf(&preview));
    let (st, _, text) = b
        .send(
            "POST",
            &format!("/residents/import/{action}"),
            Some((
                "application/x-www-form-urlencoded".into(),
                form.into_bytes(),
            )),
        )
        .await?;
    if st != 303 {
        bail!(
            "import commit answered {st}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    let took = t.elapsed().as_secs_f64();
    let mut c = w.db.read().await?;
    let imported = bench::count_residents_created_by(&mut c, "scale_importer").await?;
    if imported as usize != rows {
        bail!("import wrote {imported} of {rows} rows");
    }
    Ok(rows as f64 / took)
}

/// The reads measured at each size.
struct Reads {
    /// The dashboard of the scale's region from the counters, and by full scans.
    dashboard: Sample,
    scan: Sample,
    /// The dashboard of one county from the counters.
    county: Sample,
    /// The dashboard pages of the region and of the county.
    page: Sample,
    county_page: Sample,
    /// The list reads at the store (p90s), and the list and detail pages.
    lists: Vec<super::lists::Timing>,
    pages: Vec<Sample>,
    /// The administrator's home page (queue and exceptions) and the header bell's count.
    home: Sample,
    bell: Sample,
}

async fn measure_reads(
    w: &World,
    viewer: &mut Browser,
    region: &str,
    county: &str,
    scan_runs: usize,
) -> anyhow::Result<Reads> {
    let (dashboard, scan) = time_dashboard(&w.db, region, 200, scan_runs).await?;
    let (county_dashboard, _) = time_dashboard(&w.db, county, 200, 1).await?;
    Ok(Reads {
        dashboard,
        scan,
        county: county_dashboard,
        page: time_page(viewer, region, 50).await?,
        county_page: time_page(viewer, county, 50).await?,
        lists: list_reads(w, region).await?,
        pages: page_reads(w, viewer, region).await?,
        home: time_path(viewer, "/", "home", 20).await?,
        bell: time_path(viewer, "/api/v1/todo/count", "bell", 50).await?,
    })
}

/// `shegong bench --scale`: small data first (10^5 records), then grown to the scale's size.
pub async fn bench_command(url: Option<String>, name: &str) -> anyhow::Result<()> {
    let s = scale(name)?;
    let given = url.clone();
    let (db, url) = open_empty(url).await?;
    let _scratch = super::Scratch::unless_given(given.as_deref(), &url);
    println!(
        "bench {} on {} ({})",
        s.name,
        db.backend().as_str(),
        shegong_store::db_url_redacted(&url)
    );
    let small = 100_000.min(s.services);
    let mut w = generate(db, s, small).await?;
    let county = w
        .townships
        .first()
        .map(|t| county_of(t).to_owned())
        .context("no townships")?;
    let mut viewer = signed_in(&w, "scale_viewer", s.region).await?;
    let before = measure_reads(&w, &mut viewer, s.region, &county, 5).await?;
    let writes = write_rates(&w, 500).await?;
    let import = import_rate(&w, 2_000).await?;
    // The server folds PostgreSQL's delta rows every 2 s (a no-op on SQLite); so does the bench
    // after its writes, before it reads again.
    counters::fold(&w.db).await?;
    if s.services > small {
        add_services(&mut w, s.services).await?;
        let t = Instant::now();
        counters::rebuild(&w.db).await?;
        println!(
            "statistics counters rebuilt in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let after = measure_reads(&w, &mut viewer, s.region, &county, 3).await?;
    let mut c = w.db.read().await?;
    let t = Instant::now();
    let diff = counters::verify(&mut c).await?;
    let verify_s = t.elapsed().as_secs_f64();
    drop(c);
    print_reads(&county, small, s.services, &before, &after);
    println!();
    println!("| measurement | figure |");
    println!("| --- | --- |");
    println!(
        "| service-record API writes (POST /api/v1/services, audit + counters + schedule), one client / eight at once | {:.0}/s / {:.0}/s |",
        writes.sequential, writes.concurrent
    );
    println!(
        "| the database's single-row durable commits, same machine | {:.0}/s |",
        writes.raw
    );
    println!(
        "| API writes ÷ durable commits, one client / eight at once (target ≥ 0.5) | {:.2} / {:.2} |",
        writes.sequential / writes.raw,
        writes.concurrent / writes.raw
    );
    println!(
        "| writes per group commit, eight at once | {:.1} |",
        writes.per_commit
    );
    println!(
        "| CSV import of a 2,000-row resident roll through the pages (upload, preview with duplicate checks, commit) | {import:.0} rows/s |"
    );
    println!(
        "| dashboard at {} vs {} records, p50 ratio: counters of {} / of {} / page of {} / page of {} | {:.2}× / {:.2}× / {:.2}× / {:.2}× |",
        s.services,
        small,
        s.region,
        county,
        s.region,
        county,
        after.dashboard.p50 / before.dashboard.p50,
        after.county.p50 / before.county.p50,
        after.page.p50 / before.page.p50,
        after.county_page.p50 / before.county_page.p50
    );
    println!(
        "| stats verify over everything | {} differences, {:.1} s |",
        diff.len(),
        verify_s
    );
    println!(
        "| peak resident memory of the process | {} MB |",
        crate::bench::peak_rss_kb() / 1024
    );
    Ok(())
}

/// The table of reads at both sizes.
fn print_reads(county: &str, small: usize, big: usize, before: &Reads, after: &Reads) {
    let (b, a) = (before, after);
    println!();
    println!("| measurement | {small} records | {big} records |");
    println!("| --- | --- | --- |");
    println!(
        "| dashboard of {} from the counters, p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        b.dashboard.label, b.dashboard.p50, b.dashboard.p95, a.dashboard.p50, a.dashboard.p95
    );
    println!(
        "| dashboard of county {}, p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        county, b.county.p50, b.county.p95, a.county.p50, a.county.p95
    );
    println!(
        "| dashboard page GET /stats/{}, p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        b.page.label, b.page.p50, b.page.p95, a.page.p50, a.page.p95
    );
    println!(
        "| dashboard page GET /stats/{}, p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        county, b.county_page.p50, b.county_page.p95, a.county_page.p50, a.county_page.p95
    );
    println!(
        "| the same figures by full-scan GROUP BY, p50 / p95 | {:.1} / {:.1} ms | {:.1} / {:.1} ms |",
        b.scan.p50, b.scan.p95, a.scan.p50, a.scan.p95
    );
    for (x, y) in b.lists.iter().zip(&a.lists) {
        println!(
            "| {} (store), first pages, p90 | {:.2} ms | {:.2} ms |",
            x.label, x.p90, y.p90
        );
    }
    for (x, y) in b.pages.iter().zip(&a.pages) {
        println!(
            "| page {}, p50 / p90 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
            x.label, x.p50, x.p90, y.p50, y.p90
        );
    }
    println!(
        "| administrator's home page GET / (queue, exceptions), p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        b.home.p50, b.home.p95, a.home.p50, a.home.p95
    );
    println!(
        "| header bell GET /api/v1/todo/count, p50 / p95 | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
        b.bell.p50, b.bell.p95, a.bell.p50, a.bell.p95
    );
}
