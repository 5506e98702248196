//! `shegong bench --load`: a sustained, open-loop mixed load on a real server. The world of a
//! scale is generated first (stations, staff, residents, service records), then township social
//! workers, county administrators and the city's administrator with API tokens, and a few open
//! cases per worker. The server is this executable's `serve`, started as a child process on the
//! same database, so its peak memory is its own; the generator ([`super::open_loop`]) sends
//! `--rate` requests a second for `--duration` seconds, about 80 % reads (the to-do bell, lists,
//! a resident's file, dashboards) and 20 % writes (visits and other service records, case notes),
//! and reports p50/p95/p99/max and errors per endpoint. A quarter into the run the top
//! administrator exports the service records (up to 10^5 rows) and a 10,000-row resident roster
//! is imported through the pages beside the schedule, so the server's peak memory is read with
//! both running. Afterwards it checks that the database
//! holds exactly the service records and case notes the server acknowledged, and that the
//! statistics counters match the records.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use shegong_domain::{RegionCode, Role, Scope};
use shegong_store::Db;
use shegong_store::admin::{tokens, users};
use shegong_store::statistics::counters;
use tokio::io::AsyncBufReadExt;

use super::bench::{Browser, PASSWORD, account};
use super::import_bench;
use super::open_loop::{self, Req, Results, Schedule, quantile_ms};
use super::{NOW, Rng, World, county_of, generate, open_empty, resident_key, scale};

/// `shegong bench --load`'s settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// An empty database to fill; a temporary SQLite file if absent.
    pub target_url: Option<String>,
    pub scale: String,
    pub rate: f64,
    pub duration: Duration,
    pub connections: usize,
    /// The `shegong` executable to serve with.
    pub server: PathBuf,
}

/// Open cases each worker writes notes to.
const CASES_PER_WORKER: usize = 2;
/// At most this many township workers (one per township, in code order).
const MAX_WORKERS: usize = 200;

/// Someone sending requests: a token and the region they work in.
struct Actor {
    token: Arc<str>,
    region: String,
    /// A township worker's township (index into the world's townships).
    township: Option<usize>,
    cases: Vec<String>,
}

/// The simulated users.
struct Actors {
    workers: Vec<Actor>,
    /// County administrators, then the city's (or province's).
    admins: Vec<Actor>,
    townships: usize,
    residents: usize,
}

/// A user of `role` scoped to `region` with an API token.
async fn actor(db: &Db, n: usize, role: Role, region: &str) -> anyhow::Result<(String, Actor)> {
    let mut tx = db.begin().await?;
    let id = users::create(
        &mut tx,
        &users::NewUser {
            username: format!("load{n:04}"),
            display_name: format!("负载{n}"),
            role,
            scope: Scope::region(RegionCode::parse(region)?),
            password_hash: "$argon2id$none".into(),
            must_change_password: false,
            is_demo: false,
        },
        NOW,
    )
    .await?;
    let (_, secret) = tokens::create(&mut tx, &id, "load", NOW).await?;
    tx.commit().await?;
    Ok((
        id,
        Actor {
            token: Arc::from(secret),
            region: region.to_owned(),
            township: None,
            cases: Vec::new(),
        },
    ))
}

/// A social worker in each of the first townships, an administrator in each county and one
/// for the scale's region; each worker opens a few cases through the API.
async fn create_actors(w: &World, region: &str) -> anyhow::Result<Actors> {
    let mut workers = Vec::new();
    let mut counties: Vec<&str> = Vec::new();
    for (i, township) in w.townships.iter().take(MAX_WORKERS).enumerate() {
        let (_, mut a) = actor(&w.db, i, Role::SocialWorker, township).await?;
        a.township = Some(i);
        workers.push(a);
    }
    for t in &w.townships {
        if !counties.contains(&county_of(t)) {
            counties.push(county_of(t));
        }
    }
    let mut admins = Vec::new();
    for (i, county) in counties.iter().enumerate() {
        admins.push(
            actor(&w.db, 1000 + i, Role::CivilAffairsAdmin, county)
                .await?
                .1,
        );
    }
    admins.push(actor(&w.db, 999, Role::CivilAffairsAdmin, region).await?.1);
    let mut actors = Actors {
        workers,
        admins,
        townships: w.townships.len(),
        residents: w.residents.min(20_000),
    };
    open_cases(w, &mut actors).await?;
    Ok(actors)
}

/// Each worker opens cases for residents of their township through the in-process router.
async fn open_cases(w: &World, actors: &mut Actors) -> anyhow::Result<()> {
    use tower::ServiceExt;
    let state = shegong_web::AppState::new(
        w.db.clone(),
        shegong_web::Config {
            database_url: String::new(),
            ..Default::default()
        },
        shegong_web::system_clock(),
        shegong_store::crypto::KeyRing::from_spec(&w.spec)?,
    );
    let router = shegong_web::router(state);
    let (townships, residents) = (actors.townships, actors.residents);
    for a in &mut actors.workers {
        let Some(t) = a.township else { continue };
        for k in 0..CASES_PER_WORKER {
            let Some(resident) = resident_of(t, k, townships, residents) else {
                continue;
            };
            let body = serde_json::json!({"resident_id": resident, "problem": "独居，需定期探访"});
            let req = axum::http::Request::builder()
                .method("POST")
                .uri("/api/v1/cases")
                .header("host", "localhost")
                .header("authorization", format!("Bearer {}", a.token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))?;
            let res = router.clone().oneshot(req).await?;
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
            if status != axum::http::StatusCode::CREATED {
                bail!(
                    "opening a case answered {status}: {}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            let v: serde_json::Value = serde_json::from_slice(&bytes)?;
            let id = v.get("id").and_then(|i| i.as_str()).context("case id")?;
            a.cases.push(id.to_owned());
        }
    }
    Ok(())
}

/// The `k`-th resident of township `t` (residents are dealt to townships in turn), if any.
fn resident_of(t: usize, k: usize, townships: usize, residents: usize) -> Option<String> {
    let r = t + k * townships.max(1);
    (r < residents).then(|| resident_key(r))
}

/// What a request of the mix does, with its share in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Bell,
    Residents,
    ResidentsDue,
    Services,
    File,
    StatsApi,
    StatsPage,
    Visit,
    OtherService,
    CaseNote,
}

const MIX: [(Op, u64); 10] = [
    (Op::Bell, 15),
    (Op::Residents, 12),
    (Op::ResidentsDue, 5),
    (Op::Services, 13),
    (Op::File, 20),
    (Op::StatsApi, 10),
    (Op::StatsPage, 5),
    (Op::Visit, 12),
    (Op::OtherService, 4),
    (Op::CaseNote, 4),
];

impl Op {
    fn pick(roll: u64) -> Op {
        let mut left = roll % 100;
        for (op, share) in MIX {
            if left < share {
                return op;
            }
            left -= share;
        }
        Op::Bell
    }

    fn writes(self) -> bool {
        matches!(self, Op::Visit | Op::OtherService | Op::CaseNote)
    }
}

/// The day written service records are dated: yesterday by the server's (China's) calendar.
fn served_on() -> String {
    let today = shegong_domain::calendar::local_day(shegong_store::now_millis());
    (today - chrono::Duration::days(1)).to_string()
}

/// The mix's request `roll` by a worker or an administrator (dashboards: administrators only;
/// writes and a resident's file: the township's worker).
struct Mix {
    actors: Actors,
    rng: Rng,
    served_on: String,
}

impl Mix {
    fn next(&mut self) -> Req {
        let op = Op::pick(self.rng.next(100));
        let admin_reads = matches!(op, Op::StatsApi | Op::StatsPage)
            || (!op.writes() && op != Op::File && self.rng.next(5) == 0);
        let pool = if admin_reads || self.actors.workers.is_empty() {
            &self.actors.admins
        } else {
            &self.actors.workers
        };
        let who = pool.get(self.rng.next(pool.len() as u64) as usize);
        let (token, region, township, case) = match who {
            Some(a) => (
                a.token.clone(),
                a.region.clone(),
                a.township.unwrap_or(0),
                a.cases
                    .get(self.rng.next(a.cases.len() as u64) as usize)
                    .cloned(),
            ),
            None => (Arc::from(""), String::new(), 0, None),
        };
        let per_township = (self.actors.residents / self.actors.townships.max(1)).max(1);
        let k = self.rng.next(per_township as u64) as usize;
        let resident = resident_of(township, k, self.actors.townships, self.actors.residents)
            .unwrap_or_else(|| resident_key(township));
        let page = 1 + self.rng.next(3);
        let (endpoint, method, path, body) = request(
            op,
            page,
            (&region, &resident, case.as_deref()),
            &self.served_on,
        );
        Req {
            endpoint,
            method,
            path,
            token,
            body: body.map(|b| b.to_string()),
        }
    }
}

/// What `op` sends: its endpoint's name, method, path and JSON body.
fn request(
    op: Op,
    page: u64,
    (region, resident, case): (&str, &str, Option<&str>),
    served_on: &str,
) -> (
    &'static str,
    &'static str,
    String,
    Option<serde_json::Value>,
) {
    use serde_json::json;
    match op {
        Op::Bell => (
            "GET /api/v1/todo/count",
            "GET",
            "/api/v1/todo/count".to_owned(),
            None,
        ),
        Op::Residents => (
            "GET /api/v1/residents",
            "GET",
            format!("/api/v1/residents?page={page}&per_page=20"),
            None,
        ),
        Op::ResidentsDue => (
            "GET /api/v1/residents?due=overdue",
            "GET",
            format!("/api/v1/residents?due=overdue&page={page}"),
            None,
        ),
        Op::Services => (
            "GET /api/v1/services?kind=visit&from=",
            "GET",
            format!("/api/v1/services?kind=visit&from=2026-01-01&page={page}"),
            None,
        ),
        Op::File => (
            "GET /api/v1/residents/{id}",
            "GET",
            format!("/api/v1/residents/{resident}"),
            None,
        ),
        Op::StatsApi => (
            "GET /api/v1/stats/services?region=",
            "GET",
            format!("/api/v1/stats/services?region={region}"),
            None,
        ),
        Op::StatsPage => (
            "GET /stats/{code} (page)",
            "GET",
            format!("/stats/{region}"),
            None,
        ),
        Op::Visit => (
            "POST /api/v1/services (visit)",
            "POST",
            "/api/v1/services".to_owned(),
            Some(
                json!({"kind": "visit", "domain": "elderly", "resident_id": resident,
                "served_on": served_on, "duration_minutes": 30, "method": "home", "workers": "王芳"}),
            ),
        ),
        Op::OtherService => (
            "POST /api/v1/services (psychological)",
            "POST",
            "/api/v1/services".to_owned(),
            Some(
                json!({"kind": "psychological", "domain": "elderly", "resident_id": resident,
                "served_on": served_on, "duration_minutes": 45, "workers": "王芳", "notes": "情绪疏导"}),
            ),
        ),
        Op::CaseNote => (
            "POST /api/v1/cases/{id}/note",
            "POST",
            format!("/api/v1/cases/{}/note", case.unwrap_or_default()),
            Some(json!({"note": "电话回访，情况稳定"})),
        ),
    }
}

/// The key file and configuration of the child server, in a directory of their own; `settings`
/// are top-level configuration lines added to it.
pub(super) fn server_files(
    dir: &Path,
    spec: &shegong_store::crypto::KeyRingSpec,
    settings: &str,
) -> anyhow::Result<PathBuf> {
    use shegong_store::crypto::Algorithm;
    std::fs::create_dir_all(dir)?;
    let mut keys = format!(
        "primary = \"{}\"\nhash_key = \"{}\"\nhash_sm3 = {}\n",
        spec.primary, spec.hash_key, spec.hash_sm3
    );
    for k in &spec.keys {
        let alg = match k.algorithm {
            Algorithm::Aes256Gcm => "aes-256-gcm",
            Algorithm::Sm4Gcm => "sm4-gcm",
        };
        keys.push_str(&format!(
            "\n[[keys]]\nid = \"{}\"\nalgorithm = \"{alg}\"\nkey = \"{}\"\n",
            k.id, k.key
        ));
    }
    let key_file = dir.join("keys.toml");
    std::fs::write(&key_file, keys)?;
    // TOML basic strings: backslashes and quotes escaped.
    let quoted = |p: &Path| {
        format!(
            "\"{}\"",
            p.display()
                .to_string()
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
        )
    };
    let config = format!(
        "attachments_dir = {}\n{settings}\n[crypto]\nkey_file = {}\n",
        quoted(&dir.join("attachments")),
        quoted(&key_file)
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config)?;
    Ok(path)
}

/// The server as a child process.
pub(super) struct Server {
    child: tokio::process::Child,
    pub pid: u32,
    pub addr: std::net::SocketAddr,
}

/// Start `shegong serve` on `url` on a free local port; its log goes to `dir/server.log`.
pub(super) async fn start_server(
    exe: &Path,
    url: &str,
    dir: &Path,
    config: &Path,
) -> anyhow::Result<Server> {
    let log = std::fs::File::create(dir.join("server.log"))?;
    let mut child = tokio::process::Command::new(exe)
        .arg("--config")
        .arg(config)
        .args([
            "--database-url",
            url,
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--metrics-bind",
            "",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let pid = child.id().context("the server exited at once")?;
    let stdout = child.stdout.take().context("the server's output")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let addr: std::net::SocketAddr = tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(a) = line.strip_prefix("Shegong: http://") {
                return anyhow::Ok(a.trim_end_matches('/').parse()?);
            }
        }
        bail!(
            "the server stopped before serving (see {})",
            dir.join("server.log").display()
        )
    })
    .await
    .context("the server did not start within 5 minutes")??;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Server { child, pid, addr })
}

/// CPU seconds used by the server and by this process since `start`.
#[derive(Clone)]
struct Cpu {
    server: String,
    at: (f64, f64),
}

impl Cpu {
    fn start(server: u32) -> Self {
        let server = server.to_string();
        let at = (cpu_seconds(&server), cpu_seconds("self"));
        Self { server, at }
    }

    /// (server, this process) since the start.
    fn used(&self) -> (f64, f64) {
        (
            cpu_seconds(&self.server) - self.at.0,
            cpu_seconds("self") - self.at.1,
        )
    }

    /// The server's, `after` from now.
    fn server_after(&self, after: Duration) -> tokio::task::JoinHandle<f64> {
        let clock = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            clock.used().0
        })
    }
}

/// CPU time (user + system) a process has used, in seconds (`/proc/<pid>/stat`, in the
/// kernel's 100 Hz ticks), 0 when unknown.
fn cpu_seconds(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces) start with the state.
            let rest = s.rsplit_once(") ")?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let user: f64 = f.get(11)?.parse().ok()?;
            let system: f64 = f.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Ask the server to stop (SIGTERM: it finishes in-flight requests and closes the database).
pub(super) async fn stop_server(mut s: Server) -> anyhow::Result<()> {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &s.pid.to_string()])
        .status();
    match tokio::time::timeout(Duration::from_secs(60), s.child.wait()).await {
        Ok(status) => {
            status?;
        }
        Err(_) => {
            s.child.kill().await?;
            bail!("the server did not stop within a minute of SIGTERM");
        }
    }
    Ok(())
}

/// Service records and case notes in the database.
async fn written(db: &Db) -> anyhow::Result<(i64, i64)> {
    let mut c = db.read().await?;
    let services: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM services")
        .fetch_one(&mut *c)
        .await?;
    let notes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_events WHERE kind = 'note'")
        .fetch_one(&mut *c)
        .await?;
    Ok((services, notes))
}

/// Rows of the roster imported beside the load: half as many as the residents on file, at most
/// 10,000 (a background job, as any over a few thousand rows).
fn side_import_rows(residents: usize) -> usize {
    (residents / 2).clamp(100, 10_000)
}
/// The most rows an export holds (`ui::excel::MAX_ROWS`).
const SIDE_EXPORT_ROWS: usize = 100_000;
/// The account that imports beside the load.
const SIDE_IMPORTER: &str = "load_importer";

/// Work beside the schedule, started a quarter into the run so that the server's peak memory
/// is read with it running (issue 20 item 3): the top administrator's export of the service
/// records (at province scale the 10^5 most recent of 10^7) and a resident roster imported
/// through the pages.
struct Side {
    export: Option<tokio::task::JoinHandle<anyhow::Result<(u64, f64)>>>,
    import: tokio::task::JoinHandle<anyhow::Result<(usize, f64, f64)>>,
}

/// What the work beside the load did: the export's bytes and seconds; the import's rows and
/// seconds of upload + preview and of the commit.
struct SideDone {
    export: anyhow::Result<(u64, f64)>,
    import: anyhow::Result<(usize, f64, f64)>,
}

impl Side {
    fn start(
        addr: std::net::SocketAddr,
        top: Option<Arc<str>>,
        roster: String,
        after: Duration,
    ) -> Side {
        let export = top.map(|token| {
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                let t = Instant::now();
                let (status, bytes) =
                    open_loop::download(addr, &token, "/services/export.xlsx").await?;
                if status != 200 {
                    bail!("answered {status}");
                }
                Ok((bytes, t.elapsed().as_secs_f64()))
            })
        });
        let import = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let mut b = Browser::remote(addr);
            b.sign_in(SIDE_IMPORTER, PASSWORD).await?;
            let rows = roster.lines().count().saturating_sub(1);
            let (preview, commit) = import_bench::import_roster(&mut b, roster, |_| {}).await?;
            Ok((rows, preview, commit))
        });
        Side { export, import }
    }

    async fn finish(self) -> SideDone {
        SideDone {
            export: match self.export {
                Some(h) => joined(h.await),
                None => Err(anyhow::anyhow!("no administrator to export")),
            },
            import: joined(self.import.await),
        }
    }
}

/// A side task's result, its panic an error too.
fn joined<T>(r: Result<anyhow::Result<T>, tokio::task::JoinError>) -> anyhow::Result<T> {
    r.map_err(anyhow::Error::from).and_then(|r| r)
}

/// `shegong bench --load`.
pub async fn load_command(o: Options) -> anyhow::Result<()> {
    let s = scale(&o.scale)?;
    let (db, url) = open_empty(o.target_url.clone()).await?;
    let _scratch = super::Scratch::unless_given(o.target_url.as_deref(), &url);
    println!(
        "load on {} ({}), scale {}",
        db.backend().as_str(),
        shegong_store::db_url_redacted(&url),
        s.name
    );
    let w = generate(db, s, s.services).await?;
    let t = Instant::now();
    let actors = create_actors(&w, s.region).await?;
    println!(
        "{} township workers, {} administrators, {} open cases in {:.1} s",
        actors.workers.len(),
        actors.admins.len(),
        actors.workers.iter().map(|a| a.cases.len()).sum::<usize>(),
        t.elapsed().as_secs_f64()
    );
    let dir = std::env::temp_dir().join(format!("shegong-load-{}", std::process::id()));
    // The importer beside the load signs in with its password alone.
    let config = server_files(&dir, &w.spec, "twofactor_for_administrators = false\n")?;
    let import_rows = side_import_rows(s.residents);
    let (roster, _) = import_bench::roster(&w, import_rows, false)?;
    account(
        &w,
        SIDE_IMPORTER,
        s.region,
        chrono::Utc::now().timestamp_millis(),
    )
    .await?;
    let top = actors.admins.last().map(|a| a.token.clone());
    let before = written(&w.db).await?;
    let server = start_server(&o.server, &url, &dir, &config).await?;
    println!(
        "server pid {} on {}; {} requests/s for {} s over {} connections",
        server.pid,
        server.addr,
        o.rate,
        o.duration.as_secs_f64(),
        o.connections
    );
    let mut mix = Mix {
        actors,
        rng: Rng(20_261_206),
        served_on: served_on(),
    };
    let schedule = Schedule {
        addr: server.addr,
        rate: o.rate,
        duration: o.duration,
        connections: o.connections,
    };
    let clock = Cpu::start(server.pid);
    let quarter = o.duration / 4;
    let side = Side::start(server.addr, top, roster, quarter);
    // The server's CPU when the side work begins: per request, the schedule's alone.
    let early = clock.server_after(quarter);
    let run = open_loop::run(schedule, |_| mix.next()).await;
    let side = side.finish().await;
    let cpu = clock.used();
    let early = early.await.unwrap_or(f64::NAN);
    let server_kb = crate::bench::status_kb(&server.pid.to_string(), "VmHWM:");
    stop_server(server).await?;
    let results = run?;
    counters::fold(&w.db).await?;
    let after = written(&w.db).await?;
    let mut c = w.db.read().await?;
    let diff = counters::verify(&mut c).await?;
    drop(c);
    // Acknowledged writes, and those whose fate the client cannot know (no answer in time, or
    // the connection failed): the server may have committed them.
    let acked = |prefix: &str| -> (i64, i64) {
        results
            .endpoints
            .iter()
            .filter(|(e, _)| e.starts_with(prefix))
            .fold((0, 0), |(ok, unknown), (_, e)| {
                (ok + e.ok as i64, unknown + e.unanswered as i64)
            })
    };
    let checks = Checks {
        services: (after.0 - before.0, acked("POST /api/v1/services")),
        notes: (after.1 - before.1, acked("POST /api/v1/cases")),
        counter_differences: diff.len(),
        server_kb,
        cpu,
        early,
        side,
    };
    print_report(&o, &results, &checks);
    w.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    checks.outcome()
}

/// What the run is checked against afterwards.
struct Checks {
    /// Service records written during the run, and (acknowledged, unanswered) by the server.
    services: (i64, (i64, i64)),
    /// Case notes written, and (acknowledged, unanswered).
    notes: (i64, (i64, i64)),
    counter_differences: usize,
    server_kb: u64,
    /// CPU seconds the server and the generator used during the run.
    cpu: (f64, f64),
    /// CPU seconds the server used before the side work began (a quarter into the schedule).
    early: f64,
    side: SideDone,
}

impl Checks {
    /// Fails the command on a lost or phantom write or a counter that differs (errors are
    /// reported, not failed: they are a finding of the run).
    fn outcome(&self) -> anyhow::Result<()> {
        // Every acknowledged write is there; beyond those only writes left unanswered may be.
        let holds = |(written, (acked, unknown)): (i64, (i64, i64))| {
            written >= acked && written <= acked + unknown
        };
        if !holds(self.services) || !holds(self.notes) {
            bail!(
                "the database holds {} new service records and {} case notes; the server acknowledged {} and {} (and left {} and {} unanswered)",
                self.services.0,
                self.notes.0,
                self.services.1.0,
                self.notes.1.0,
                self.services.1.1,
                self.notes.1.1
            );
        }
        if let Err(e) = &self.side.export {
            bail!("the export beside the load failed: {e}");
        }
        if let Err(e) = &self.side.import {
            bail!("the import beside the load failed: {e}");
        }
        if self.counter_differences > 0 {
            bail!(
                "{} statistics counters differ from the records",
                self.counter_differences
            );
        }
        Ok(())
    }
}

fn print_report(o: &Options, r: &Results, c: &Checks) {
    println!();
    println!("| endpoint | requests | errors | p50 ms | p95 ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let row = |name: &str, lat: &mut Vec<Duration>, errors: u64| {
        println!(
            "| {name} | {} | {errors} | {:.1} | {:.1} | {:.1} | {:.1} |",
            lat.len(),
            quantile_ms(lat, 0.5),
            quantile_ms(lat, 0.95),
            quantile_ms(lat, 0.99),
            quantile_ms(lat, 1.0)
        );
    };
    for (name, e) in &r.endpoints {
        row(name, &mut e.latencies.clone(), e.errors);
    }
    row("**all**", &mut r.all_latencies(), r.errors());
    println!();
    for (name, e) in &r.endpoints {
        if let Some(err) = &e.first_error {
            println!("first error of {name}: {err}");
        }
    }
    let answered = r.all_latencies().len() as f64;
    let ok: u64 = r.endpoints.values().map(|e| e.ok).sum();
    println!("| measurement | figure |");
    println!("| --- | --- |");
    println!(
        "| scheduled rate / answered with 2xx per second | {:.0}/s / {:.0}/s ({} requests, {ok} 2xx, in {:.1} s) |",
        o.rate,
        ok as f64 / r.elapsed.as_secs_f64().max(1e-9),
        r.scheduled,
        r.elapsed.as_secs_f64()
    );
    println!(
        "| the generator's own latest launch (inside the latencies) | {:.1} ms |",
        r.max_launch_lag.as_secs_f64() * 1000.0
    );
    println!(
        "| service records written / acknowledged / unanswered (written or not) | {} / {} / {} |",
        c.services.0, c.services.1.0, c.services.1.1
    );
    println!(
        "| case notes written / acknowledged / unanswered | {} / {} / {} |",
        c.notes.0, c.notes.1.0, c.notes.1.1
    );
    println!(
        "| CPU used during the run: server / generator | {:.1} s / {:.1} s ({:.2} / {:.2} ms per request) |",
        c.cpu.0,
        c.cpu.1,
        c.cpu.0 * 1000.0 / answered.max(1.0),
        c.cpu.1 * 1000.0 / answered.max(1.0)
    );
    println!(
        "| server CPU before the export and the import began (the first quarter) | {:.1} s ({:.2} ms per request due) |",
        c.early,
        c.early * 1000.0 / (o.rate * (o.duration / 4).as_secs_f64()).max(1.0)
    );
    println!(
        "| stats verify after the run | {} differences |",
        c.counter_differences
    );
    if let Ok((bytes, secs)) = &c.side.export {
        println!(
            "| beside the load: `GET /services/export.xlsx` by the top administrator (at most {} rows) | {:.1} MB in {secs:.1} s |",
            SIDE_EXPORT_ROWS,
            *bytes as f64 / 1e6
        );
    }
    if let Ok((rows, preview, commit)) = &c.side.import {
        println!(
            "| beside the load: a {rows}-row resident roster imported through the pages | upload + preview {preview:.1} s, commit {commit:.1} s |"
        );
    }
    println!(
        "| peak resident memory: server / generator (with the world generation) | {} MB / {} MB |",
        c.server_kb / 1024,
        crate::bench::peak_rss_kb() / 1024
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_mix_is_four_fifths_reads() {
        assert_eq!(MIX.iter().map(|(_, s)| s).sum::<u64>(), 100);
        let writes: u64 = MIX
            .iter()
            .filter(|(op, _)| op.writes())
            .map(|(_, s)| s)
            .sum();
        assert_eq!(writes, 20);
        let picked = (0..100).filter(|r| Op::pick(*r).writes()).count();
        assert_eq!(picked, 20);
    }

    #[test]
    fn residents_are_those_of_the_township() {
        assert_eq!(resident_of(3, 0, 10, 100).as_deref(), Some("r000000003"));
        assert_eq!(resident_of(3, 2, 10, 100).as_deref(), Some("r000000023"));
        assert_eq!(resident_of(3, 10, 10, 100), None);
    }
}
