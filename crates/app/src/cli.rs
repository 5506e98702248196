use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use shegong_app::demo;
use shegong_domain::{Role, Scope};
use shegong_store::admin::audit::{self, Actor};
use shegong_store::{Db, DbOptions, admin::users, migrate, network::regions};
use shegong_web::{App, Config};

#[derive(Parser)]
#[command(
    name = "shegong",
    version,
    about = "社工站信息平台 · Shegong, the platform for township social work stations"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// Database URL: sqlite://path/to/file.db or postgres://user@host/db
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// TOML configuration file (see docs/configuration.md)
    #[arg(long, env = "SHEGONG_CONFIG", global = true)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (migrates the database and loads the region tree first).
    Serve {
        /// Address to listen on
        #[arg(long, env = "SHEGONG_BIND")]
        bind: Option<String>,
        /// Prometheus metrics address ("" to disable)
        #[arg(long, env = "SHEGONG_METRICS_BIND")]
        metrics_bind: Option<String>,
        /// Seed demo accounts (湖南省株洲市) into an empty database and allow them to sign in
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Reference data: administrative regions.
    #[command(subcommand)]
    Regions(RegionsCommand),
    /// Write a consistent snapshot of the SQLite database (safe while the server runs).
    Backup { path: PathBuf },
    /// Replace the SQLite database with a backup (stop the server first).
    Restore { path: PathBuf },
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Data keys of sealed fields (identity numbers, mobiles).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The maintained statistics counters
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Purchase of services: the maintained deliverables and budget execution
    #[command(subcommand)]
    Purchase(PurchaseCommand),
    /// The time bank's ledger
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Fill a throw-away database with a station in every township and their staff, then time
    /// the reads behind the pages (see docs/operations.md).
    Bench {
        /// An empty database to fill (never the configured one); a temporary SQLite file if absent
        #[arg(long)]
        target_url: Option<String>,
        /// Stations to create, one per township in code order (0: all 38,000+ townships)
        #[arg(long, default_value_t = 0)]
        stations: usize,
        /// Staff records per station
        #[arg(long, default_value_t = 2)]
        staff_per_station: usize,
        /// Instead: the statistics benchmark at a named scale (tiny, city, province): dashboards
        /// at 10^5 and at the full size, API writes, lists, memory (see docs/performance.md)
        #[arg(long)]
        scale: Option<String>,
        /// Instead: a sustained open-loop mixed load (80 % reads, 20 % writes by many users) on
        /// this executable's server started as a child process on the generated world of
        /// --scale (default city); latency per endpoint from each request's scheduled instant
        #[arg(long, conflicts_with = "import")]
        load: bool,
        /// Requests per second the load sends
        #[arg(long, default_value_t = 1000.0, requires = "load")]
        rate: f64,
        /// Seconds the load lasts
        #[arg(long, default_value_t = 600.0, requires = "load")]
        duration: f64,
        /// Keep-alive connections the load's requests share (a request waits for a free one)
        #[arg(long, default_value_t = 64, requires = "load")]
        connections: usize,
        /// The `shegong` executable the load's server runs (default: this one), to measure
        /// another build under the same load
        #[arg(long, requires = "load")]
        server: Option<PathBuf>,
        /// Instead: the import benchmark, a resident roster uploaded, previewed and committed
        /// through the pages against 10^6 residents on file (see docs/performance.md)
        #[arg(long, conflicts_with = "scale")]
        import: bool,
        /// Rows of the roster the import benchmark uploads
        #[arg(long, default_value_t = 100_000, requires = "import")]
        rows: usize,
        /// Residents on file before the import benchmark's roster
        #[arg(long, default_value_t = 1_000_000, requires = "import")]
        on_file: usize,
        /// Name the residents on file 对象n (the generator's names before 2026-12-05) instead of
        /// varied names
        #[arg(long, requires = "import")]
        numbered_names: bool,
        /// Instead: time the list reads (first pages, filtered and unfiltered, and reads by id)
        /// on a database `demo generate` filled, without changing it (needs --target-url)
        #[arg(long, conflicts_with_all = ["scale", "import"], requires = "target_url")]
        lists: bool,
        /// The region whose lists `--lists` times
        #[arg(long, default_value = "43", requires = "lists")]
        region: String,
    },
    /// Demo and scale data
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Fill an empty database with realistic data at a named scale: city (株洲: 10^5 service
    /// records) or province (湖南: ~1,900 townships, 10,000 staff, 10^6 residents, 10^7 records)
    Generate {
        #[arg(long)]
        scale: String,
        /// An empty database to fill; a temporary SQLite file if absent
        #[arg(long)]
        target_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new primary key to the key file; old keys stay to read older values.
    Rotate {
        /// aes-256-gcm or sm4-gcm
        #[arg(long, default_value = "aes-256-gcm")]
        algorithm: String,
    },
    /// Re-seal every value made by an older key with the primary key (safe while serving).
    Reencrypt,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. Its password must be changed at first sign-in unless --permanent.
    Add {
        username: String,
        /// system_admin, security_admin, auditor, civil_affairs_admin, agency_manager,
        /// social_worker, supervisor or evaluator
        #[arg(long)]
        role: String,
        /// Scope region code (CN for the whole country)
        #[arg(long)]
        region: String,
        /// Organisation id (required for agency_manager)
        #[arg(long)]
        org: Option<String>,
        /// Display name (defaults to the username)
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input (else one is generated)
        #[arg(long)]
        password_stdin: bool,
        /// Do not require a password change at first sign-in
        #[arg(long)]
        permanent: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (shown once).
    Create {
        username: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Subcommand)]
enum RegionsCommand {
    /// Import the village level (NBS villages CSV, gzip or plain). Idempotent.
    Import {
        #[arg(long)]
        villages: PathBuf,
    },
    /// Show how many regions of each level are loaded.
    Status,
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Recompute every counter from the raw records and list differences; exits non-zero on any.
    Verify,
    /// Replace every counter by its recomputation (in one transaction).
    Rebuild,
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Check the time bank's ledger: every scheme's and entry's postings sum to zero, every
    /// balance equals the sum of its postings and keeps its scheme's cap and minimum, every
    /// reversal mirrors its original; list differences and exit non-zero on any.
    Verify,
}

#[derive(Subcommand)]
enum PurchaseCommand {
    /// Recompute every open contract's deliverables from the service records and every budget
    /// line's spent amount from its expenses; list differences and exit non-zero on any.
    Verify,
    /// Replace every open contract's deliverables by their recomputation (one transaction).
    Rebuild,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain of the whole audit log; exits non-zero on any break.
    Verify,
}

pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SHEGONG_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colour only for a terminal: redirected to a file or a pipe, the log stays plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if std::env::var("SHEGONG_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Defaults, then the file, then environment, then flags.
fn load_config(g: &Global) -> anyhow::Result<Config> {
    let mut config: Config = match &g.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => Config::default(),
    };
    if let Some(url) = &g.database_url {
        config.database_url = url.clone();
    }
    if let Ok(v) = std::env::var("SHEGONG_READ_REPLICA_URL") {
        config.read_replica_url = v;
    }
    if let Ok(v) = std::env::var("SHEGONG_SECURE_COOKIES") {
        config.secure_cookies = v == "1" || v == "true";
    }
    sqlite_caches_from_env(&mut config.sqlite_cache)?;
    Ok(config)
}

/// `SHEGONG_SQLITE_*_CACHE_MIB` over the configured SQLite page caches (the benches use them
/// too, to compare sizes with one binary).
pub fn sqlite_caches_from_env(caches: &mut shegong_store::SqliteCaches) -> anyhow::Result<()> {
    for (var, mib) in [
        ("SHEGONG_SQLITE_READER_CACHE_MIB", &mut caches.reader_mib),
        ("SHEGONG_SQLITE_WRITER_CACHE_MIB", &mut caches.writer_mib),
        ("SHEGONG_SQLITE_BULK_CACHE_MIB", &mut caches.bulk_mib),
    ] {
        if let Ok(v) = std::env::var(var) {
            *mib = v
                .trim()
                .parse()
                .with_context(|| format!("{var}: a whole number of MiB, not {v:?}"))?;
        }
    }
    Ok(())
}

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::open(&DbOptions::new(&config.database_url)).await?;
    regions::load_embedded(&db).await?;
    Ok(db)
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = load_config(&cli.global)?;
    match cli.command {
        Command::Serve {
            bind,
            metrics_bind,
            demo,
        } => {
            if let Some(b) = bind {
                config.bind = b;
            }
            if let Some(m) = metrics_bind {
                config.metrics_bind = m;
            }
            config.demo |= demo;
            serve(config).await
        }
        Command::Migrate => migrate_command(&config).await,
        Command::User(cmd) => user_command(&config, cmd).await,
        Command::Token(TokenCommand::Create { username, name }) => {
            token_command(&config, &username, &name).await
        }
        Command::Regions(cmd) => regions_command(&config, cmd).await,
        Command::Backup { path } => backup_command(&config, &path).await,
        Command::Restore { path } => restore(&config, &path).await,
        Command::Bench {
            target_url,
            import: true,
            rows,
            on_file,
            numbered_names,
            ..
        } => {
            crate::scale::import_bench::import_command(target_url, rows, on_file, numbered_names)
                .await
        }
        Command::Bench {
            target_url: Some(url),
            lists: true,
            region,
            ..
        } => crate::scale::lists::lists_command(url, &region).await,
        Command::Bench {
            target_url,
            scale,
            load: true,
            rate,
            duration,
            connections,
            server,
            ..
        } => {
            anyhow::ensure!(
                duration.is_finite() && duration > 0.0,
                "--duration must be above 0"
            );
            crate::scale::load::load_command(crate::scale::load::Options {
                target_url,
                scale: scale.unwrap_or_else(|| "city".into()),
                rate,
                duration: std::time::Duration::from_secs_f64(duration),
                connections,
                server: match server {
                    Some(path) => path,
                    None => std::env::current_exe().context("this executable")?,
                },
            })
            .await
        }
        Command::Bench {
            target_url,
            scale: Some(scale),
            ..
        } => crate::scale::bench::bench_command(target_url, &scale).await,
        Command::Demo(DemoCommand::Generate { scale, target_url }) => {
            crate::scale::generate_command(target_url, &scale).await
        }
        Command::Bench {
            target_url,
            stations,
            staff_per_station,
            scale: None,
            ..
        } => {
            crate::bench::run(crate::bench::Options {
                target_url,
                stations,
                staff_per_station,
            })
            .await
        }
        Command::Keys(cmd) => keys_command(&config, cmd).await,
        Command::Stats(cmd) => stats_command(&config, cmd).await,
        Command::Purchase(cmd) => purchase_command(&config, cmd).await,
        Command::Ledger(LedgerCommand::Verify) => ledger_command(&config).await,
        Command::Audit(AuditCommand::Verify) => audit_command(&config).await,
    }
}

async fn migrate_command(config: &Config) -> anyhow::Result<()> {
    let db = Db::connect(&DbOptions::new(&config.database_url)).await?;
    let applied = migrate::run(&db).await?;
    regions::load_embedded(&db).await?;
    println!(
        "schema at version {} ({} applied now)",
        migrate::latest_version(),
        applied.len()
    );
    Ok(())
}

async fn user_command(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        username,
        role,
        region,
        org,
        name,
        password_stdin,
        permanent,
    } = cmd;
    let db = open_db(config).await?;
    let role = Role::parse(&role).map_err(|_| anyhow::anyhow!("--role: unknown role {role:?}"))?;
    let scope = Scope {
        region: Scope::parse_region(&region)
            .map_err(|_| anyhow::anyhow!("--region: {region:?} is not a region code"))?,
        org: org
            .map(|o| o.parse())
            .transpose()
            .map_err(|_| anyhow::anyhow!("--org: not an organisation id"))?,
    };
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let p = line.trim_end_matches(['\r', '\n']).to_owned();
        if p.is_empty() {
            bail!("--password-stdin: no password on standard input");
        }
        Some(p)
    } else {
        None
    };
    let generated = password.is_none();
    let input = shegong_web::admin::users::CreateUser {
        display_name: name.unwrap_or_else(|| username.clone()),
        username: username.clone(),
        role,
        scope,
        password,
        temporary: !permanent,
        is_demo: false,
    };
    let (id, clear) = shegong_web::admin::users::create_user(
        &db,
        &config.password,
        shegong_web::http::write::Author::Operator(&Actor::system("cli")),
        input,
        shegong_store::now_millis(),
    )
    .await
    .map_err(describe)?;
    println!("created user {username} ({id})");
    if generated {
        println!("temporary password: {clear}");
    }
    if !permanent {
        println!("the password must be changed at first sign-in");
    }
    Ok(())
}

async fn token_command(config: &Config, username: &str, name: &str) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let user = {
        let mut c = db.read().await?;
        users::get_by_username(&mut c, &Scope::national(), username)
            .await
            .map_err(|_| anyhow::anyhow!("no user named {username:?}"))?
    };
    let (_, secret) = shegong_web::admin::account::create_token(
        &db,
        &Actor::system("cli"),
        &user,
        name,
        shegong_store::now_millis(),
    )
    .await
    .map_err(describe)?;
    println!("{secret}");
    Ok(())
}

async fn regions_command(config: &Config, cmd: RegionsCommand) -> anyhow::Result<()> {
    match cmd {
        RegionsCommand::Import { villages } => {
            let db = open_db(config).await?;
            let file = std::fs::File::open(&villages)
                .with_context(|| format!("opening {}", villages.display()))?;
            let started = std::time::Instant::now();
            let (read, inserted) = regions::import_villages(&db, file).await?;
            let mut tx = db.begin().await?;
            audit::record(
                &mut tx,
                db.backend(),
                &Actor::system("cli"),
                audit::Event::new("import", "region", None).changes(vec![audit::Change::new(
                    "villages",
                    Some(read),
                    Some(inserted),
                )]),
                shegong_store::now_millis(),
            )
            .await?;
            tx.commit().await?;
            println!(
                "{read} villages read, {inserted} new, in {:.1}s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        RegionsCommand::Status => {
            let db = open_db(config).await?;
            let mut c = db.read().await?;
            for (level, n) in regions::count_by_level(&mut c).await? {
                println!("{level:<10} {n:>8}");
            }
            Ok(())
        }
    }
}

async fn backup_command(config: &Config, path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        bail!("{} exists; choose a new file", path.display());
    }
    let db = Db::connect(&DbOptions::new(&config.database_url)).await?;
    db.backup_sqlite(path).await?;
    println!("backup written to {}", path.display());
    Ok(())
}

async fn keys_command(config: &Config, cmd: KeysCommand) -> anyhow::Result<()> {
    let path = std::path::PathBuf::from(&config.crypto.key_file);
    match cmd {
        KeysCommand::Rotate { algorithm } => {
            let alg = match algorithm.as_str() {
                "aes-256-gcm" => shegong_store::crypto::Algorithm::Aes256Gcm,
                "sm4-gcm" => shegong_store::crypto::Algorithm::Sm4Gcm,
                other => bail!("--algorithm: {other:?} is not aes-256-gcm or sm4-gcm"),
            };
            if !path.exists() {
                bail!(
                    "{} does not exist (it is created at first start)",
                    path.display()
                );
            }
            let id = shegong_store::crypto::rotate(&path, alg)?;
            println!(
                "new primary key {id} in {}; running servers pick it up at restart.",
                path.display()
            );
            println!("then run `shegong keys reencrypt` to re-seal older values.");
            Ok(())
        }
        KeysCommand::Reencrypt => {
            if !path.exists() {
                bail!(
                    "{} does not exist: nothing to re-encrypt with",
                    path.display()
                );
            }
            let (keys, _) = shegong_store::crypto::load_or_create(&path, config.crypto.algorithm)?;
            let db = Db::connect(&DbOptions::new(&config.database_url)).await?;
            use shegong_store::keycheck::{self, KeyCheck};
            match keycheck::check_and_record(&db, &keys).await? {
                KeyCheck::Ok => {}
                KeyCheck::Missing(ids) => bail!(
                    "the database was sealed with key(s) {} that {} lacks: restore the key file first",
                    ids.join(", "),
                    path.display()
                ),
                KeyCheck::Unreadable => bail!(
                    "{} cannot open the sealed data in this database: restore the key file first",
                    path.display()
                ),
            }
            let n = shegong_store::reseal::reencrypt(&db, &keys).await?;
            // Nothing sealed by an older key is left: only the primary is still needed.
            keycheck::record_only_primary(&db, &keys).await?;
            println!("{n} values re-sealed with key {}", keys.primary());
            Ok(())
        }
    }
}

async fn stats_command(config: &Config, cmd: StatsCommand) -> anyhow::Result<()> {
    let db = Db::connect(&DbOptions::new(&config.database_url)).await?;
    let started = std::time::Instant::now();
    match cmd {
        StatsCommand::Verify => {
            let mut c = db.read().await?;
            let diff = shegong_store::statistics::counters::verify(&mut c).await?;
            for (k, have, want) in diff.iter().take(50) {
                println!(
                    "{} {} {}={}: stored n={} person_times={} minutes={} value_fen={}, recomputed n={} person_times={} minutes={} value_fen={}",
                    if k.region_code.is_empty() {
                        "CN"
                    } else {
                        &k.region_code
                    },
                    if k.month.is_empty() { "-" } else { &k.month },
                    k.dim,
                    k.key,
                    have.n,
                    have.person_times,
                    have.minutes,
                    have.value_fen,
                    want.n,
                    want.person_times,
                    want.minutes,
                    want.value_fen
                );
            }
            if diff.is_empty() {
                println!(
                    "statistics match the records ({:.1}s)",
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            } else {
                bail!(
                    "{} counter(s) differ from the records; `shegong stats rebuild` repairs them",
                    diff.len()
                )
            }
        }
        StatsCommand::Rebuild => {
            let n = shegong_store::statistics::counters::rebuild(&db).await?;
            println!(
                "{n} counters rebuilt from the records ({:.1}s)",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

async fn purchase_command(config: &Config, cmd: PurchaseCommand) -> anyhow::Result<()> {
    use shegong_store::purchase::{deliverables, execution};
    let db = Db::connect(&DbOptions::new(&config.database_url)).await?;
    let started = std::time::Instant::now();
    match cmd {
        PurchaseCommand::Verify => {
            let mut c = db.read().await?;
            let delivery = deliverables::verify_all(&mut c).await?;
            let spent = execution::verify_spent(&mut c).await?;
            for d in delivery.iter().take(50) {
                println!("deliverables: {d}");
            }
            for (contract, seq, have, want) in spent.iter().take(50) {
                println!(
                    "budget: contract {contract} line {seq}: stored spent {have} fen, expenses add up to {want} fen"
                );
            }
            if delivery.is_empty() && spent.is_empty() {
                println!(
                    "deliverables and budget execution match the records ({:.1}s)",
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            } else {
                bail!(
                    "{} deliverable and {} budget difference(s); `shegong purchase rebuild` repairs the deliverables",
                    delivery.len(),
                    spent.len()
                )
            }
        }
        PurchaseCommand::Rebuild => {
            let mut tx = db.begin().await?;
            let n = deliverables::rebuild_all(&mut tx).await?;
            tx.commit().await?;
            println!(
                "deliverables of {n} contracts rebuilt from the records ({:.1}s)",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

async fn ledger_command(config: &Config) -> anyhow::Result<()> {
    let db = Db::connect(&DbOptions::new(&config.database_url)).await?;
    let started = std::time::Instant::now();
    let mut c = db.read().await?;
    let diff = shegong_store::timebank::verify(&mut c).await?;
    for d in diff.iter().take(100) {
        println!("ledger: {d}");
    }
    if diff.is_empty() {
        println!(
            "the time bank's ledger balances ({:.1}s)",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    } else {
        bail!("{} ledger difference(s)", diff.len())
    }
}

async fn audit_command(config: &Config) -> anyhow::Result<()> {
    let db = Db::connect(&DbOptions::new(&config.database_url)).await?;
    let mut c = db.read().await?;
    let v = audit::verify(&mut c).await?;
    if v.ok() {
        println!(
            "audit log intact: {} entries (#{}–#{}) verified ({})",
            v.checked,
            v.first_seq,
            v.last_seq,
            v.algorithms_summary()
        );
        Ok(())
    } else {
        for b in &v.breaks {
            println!("entry #{}: {}", b.seq, b.problem);
        }
        bail!(
            "audit log broken: {} problem(s) in {} entries",
            v.breaks.len(),
            v.checked
        )
    }
}

fn describe(e: shegong_web::http::error::WebError) -> anyhow::Error {
    match e {
        shegong_web::http::error::WebError::Invalid(fields) => {
            let t = shegong_web::ui::i18n::Tr::new(shegong_web::ui::i18n::Lang::En);
            anyhow::anyhow!(
                "{}",
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, t.get(f.code)))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
        other => anyhow::anyhow!("{other:?}"),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    let state = app.state();
    let demo_seeded = if state.config.demo {
        demo::seed(state).await.context("demo seed")?
    } else {
        false
    };
    tracing::info!(
        addr = %app.addr(),
        metrics = ?app.metrics_addr(),
        database = %shegong_store::db_url_redacted(&state.config.database_url),
        "Shegong is serving"
    );
    if state.config.demo {
        print_demo(demo_seeded);
    }
    println!("Shegong: http://{}/", app.addr());
    app.run(shutdown_signal()).await
}

fn print_demo(seeded: bool) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\n=== 演示模式 / demo mode{} ===",
        if seeded {
            " (accounts created now)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "{:<16} {:<22} region", "username", "role");
    for a in demo::accounts() {
        let _ = writeln!(
            out,
            "{:<16} {:<22} {}",
            a.username,
            a.role.as_str(),
            a.region
        );
    }
    let _ = writeln!(out, "password for every demo account: {}\n", demo::PASSWORD);
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// Restore a SQLite backup: check it, then swap it in atomically. The server must be stopped.
async fn restore(config: &Config, backup: &Path) -> anyhow::Result<()> {
    if !config.database_url.starts_with("sqlite:") {
        bail!("restore is for SQLite; restore PostgreSQL with pg_restore (docs/operations.md)");
    }
    if !backup.is_file() {
        bail!("{} is not a file", backup.display());
    }
    // Held until the swap is done: a running server would keep writing to the replaced file and
    // lose every write after it; a server starting meanwhile waits for nothing and refuses.
    let _lock =
        shegong_store::server_lock::ServerLock::exclusive(&config.database_url, "shegong restore")
            .await
            .map_err(|e| anyhow::anyhow!("{e}: stop the server before restoring"))?;
    // Check the backup on a scratch copy so the original stays untouched.
    let target = shegong_store::sqlite_file(&config.database_url);
    let staging = target.with_extension("restore-tmp");
    let _ = std::fs::remove_file(&staging);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::copy(backup, &staging).with_context(|| format!("copying {}", backup.display()))?;
    let check = Db::open(&DbOptions::new(format!("sqlite://{}", staging.display()))).await?;
    {
        let mut c = check.read().await?;
        let ok = shegong_store::sqlite_integrity_ok(&mut c).await?;
        if !ok {
            bail!("the backup fails SQLite's integrity check");
        }
        let v = audit::verify(&mut c).await?;
        if !v.ok() {
            bail!(
                "the backup's audit chain is broken ({} problems)",
                v.breaks.len()
            );
        }
    }
    check.close().await;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
        let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
    }
    std::fs::File::open(&staging)?.sync_all()?;
    std::fs::rename(&staging, &target)?;
    println!("restored {} into {}", backup.display(), target.display());
    Ok(())
}
