//! Application configuration: defaults here, overridden by a TOML file, then by environment
//! variables and command-line flags (the binary does the layering).

use serde::Deserialize;
use shegong_domain::admin::password::PasswordPolicy;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database_url: String,
    /// A PostgreSQL streaming replica of `database_url` for reads (dashboards, lists, exports,
    /// record pages); empty: every read goes to the primary. A user's reads go to the primary
    /// for `read_your_writes_secs` after each of their writes.
    pub read_replica_url: String,
    /// Seconds after a write during which that user's reads go to the primary, so they see what
    /// they just wrote whatever the replica's lag.
    pub read_your_writes_secs: u64,
    pub bind: String,
    /// Prometheus metrics listener; empty disables it.
    pub metrics_bind: String,
    pub demo: bool,
    /// Set when served behind TLS: cookies get the Secure flag (HSTS is the TLS proxy's to send).
    pub secure_cookies: bool,
    /// Take the client address from the last X-Forwarded-For entry, the one your own reverse
    /// proxy appended (clients can put anything before it). Only behind such a proxy.
    pub trust_proxy: bool,
    pub session: SessionConfig,
    pub lockout: LockoutConfig,
    pub password: PasswordPolicy,
    pub audit: AuditConfig,
    /// Where uploaded files are kept (outside any web-served directory).
    pub attachments_dir: String,
    pub crypto: CryptoConfig,
    /// Request body limit in bytes (uploads included).
    pub body_limit: usize,
    /// Per-request timeout in seconds.
    pub request_timeout_secs: u64,
    /// The public portal shows no count below this (as "<N"): a small cell could identify a person.
    pub portal_min_cell: i64,
    /// Bounds on reading uploaded spreadsheets.
    pub import: ImportLimits,
    /// Administrators (system, security, audit, civil-affairs) must sign in with a second factor
    /// (等保 2.0 level 3). On by default; off only for development and test harnesses.
    pub twofactor_for_administrators: bool,
    /// Local rules of volunteering.
    pub volunteers: VolunteerRules,
    /// Local rules of the 急难愁盼 ledger.
    pub community: CommunityRules,
    /// Local rules of hotlines and tickets.
    pub hotline: HotlineRules,
    /// Where the boundary maps come from.
    pub maps: MapsConfig,
    /// The notifier and its outside channels.
    pub notify: NotifyConfig,
    /// The offline app (`/app`): how much of the worker's own data a device may hold.
    pub offline: OfflineConfig,
    /// `[sqlite_cache]`: SQLite's page caches in the server's memory (SQLite only).
    pub sqlite_cache: shegong_store::SqliteCaches,
}

/// `[offline]`: the worker's own files a device caches for the offline app, at most this many
/// (the rest are left out and the app says so).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfflineConfig {
    pub max_files: i64,
}

impl Default for OfflineConfig {
    fn default() -> Self {
        Self { max_files: 500 }
    }
}

/// `[notify]`: how often the notifier looks at every to-do queue, the address links point to,
/// and the outside channels (each off until its section is given).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Minutes between looks at every account's queue; 0 turns notifications off.
    pub scan_minutes: u64,
    /// The address users open the platform at, e.g. `https://shegong.mz.example.gov.cn`
    /// (prefixed to links sent by e-mail, webhook and SMS).
    pub base_url: String,
    pub email: Option<crate::notifications::channels::EmailConfig>,
    pub webhook: Option<crate::notifications::channels::WebhookConfig>,
    pub sms: Option<crate::notifications::channels::SmsConfig>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            scan_minutes: 10,
            base_url: "http://127.0.0.1:8080".into(),
            email: None,
            webhook: None,
            sms: None,
        }
    }
}

/// The boundary maps of the dashboards, the wall display and the portal.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MapsConfig {
    /// A directory of GeoJSON files from an officially approved boundary set, one per region
    /// (`43.json`: the province's cities, `4302.json`: the city's counties; each feature with
    /// `properties.code` and `properties.name`). Empty: the bundled schematic set (示意图).
    pub dir: String,
    /// The approval number (审图号) of the set in `dir`, shown on every map drawn from it.
    pub approval: String,
}

/// The 急难愁盼 ledger's rules that differ from place to place.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommunityRules {
    /// Due-time policy per region code (province `43`, city `4302`, county `430202`, township
    /// …; the longest matching code wins) or `default`; e.g.
    /// `[community.issue_due.default]` `red = { hours = 24 }`, `yellow = { working_days = 5 }`,
    /// `blue = { hours = 8 }` (the built-in policy, 池州 滨江社区's ledger).
    pub issue_due: std::collections::BTreeMap<String, shegong_domain::community::DuePolicy>,
}

impl CommunityRules {
    /// The due-time policy of the matters of `region`.
    pub fn issue_policy(&self, region: &str) -> shegong_domain::community::DuePolicy {
        [12, 9, 6, 4, 2]
            .iter()
            .filter_map(|n| region.get(..*n))
            .find_map(|code| self.issue_due.get(code))
            .or_else(|| self.issue_due.get("default"))
            .copied()
            .unwrap_or_default()
    }
}

/// Ticket rules that differ from place to place.
///
/// Due times per category (`consult`, `help`, `complaint`, `suggestion`, `emergency`, `crisis`):
/// `"same_day"` (the end of the China-time day the ticket came in) or a number of working days
/// counted from the next day (ending at the end of the last). Working days are Monday to Friday:
/// public holidays and make-up working days are not modelled. Defaults (§5.2 "Typical SLAs"):
/// emergency and crisis the same day, consultation and help 3, complaints and suggestions 13.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotlineRules {
    pub sla: std::collections::BTreeMap<String, String>,
    /// An overdue ticket is escalated to the township at once, then one region level up
    /// (county, city, province) per this many further working days.
    pub escalation_working_days: u32,
    /// The local crisis protocol shown on every crisis ticket (suicide risk, violence).
    pub crisis_protocol: String,
}

impl HotlineRules {
    /// Every time limit names a category and is `same_day` or 1–60 working days; escalation
    /// takes at least one working day per level.
    pub fn validate(&self) -> Result<(), String> {
        use shegong_domain::hotline::{Category, Sla};
        for (k, v) in &self.sla {
            if Category::parse(k).is_err() || Sla::parse(v).is_err() {
                return Err(format!(
                    "hotline.sla: {k} = {v:?} (a category: same_day or 1–60 working days)"
                ));
            }
        }
        if self.escalation_working_days < 1 {
            return Err("hotline.escalation_working_days must be at least 1".into());
        }
        Ok(())
    }

    /// The due-time rule of a category: configured, else the default.
    pub fn sla(&self, c: shegong_domain::hotline::Category) -> shegong_domain::hotline::Sla {
        self.sla
            .get(c.as_str())
            .and_then(|s| shegong_domain::hotline::Sla::parse(s).ok())
            .unwrap_or_else(|| shegong_domain::hotline::default_sla(c))
    }
}

impl Default for HotlineRules {
    fn default() -> Self {
        Self {
            sla: std::collections::BTreeMap::new(),
            escalation_working_days: 5,
            crisis_protocol: "1. 保持通话，确认来电人所在位置与当前安全状况；\n\
2. 有自伤、自杀或暴力危险的，立即拨打110/120，必要时联系监护人或家属；\n\
3. 同步报告站点督导，督导到场或远程指导前不得结束跟进；\n\
4. 24小时内回访，记录评估与处置经过并转个案。"
                .into(),
        }
    }
}

/// Volunteering rules that differ from place to place.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolunteerRules {
    /// Days confirmed hours stay on notice (公示) before they may be recorded; 0: none.
    pub hours_publicity_days: u64,
    /// Who approves one to five stars (`county`, `city` or `province`), per province by its
    /// two-digit code; `default` for the rest (福建: 1–2 county, 3–4 city, 5 province).
    pub star_approval: std::collections::BTreeMap<String, [StarApprover; 5]>,
}

/// The level that approves a star.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StarApprover {
    County,
    City,
    Province,
}

impl StarApprover {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::County => "county",
            Self::City => "city",
            Self::Province => "province",
        }
    }
}

impl VolunteerRules {
    /// The approvers of one to five stars in the province of `region`.
    pub fn star_approvers(&self, region: &str) -> [StarApprover; 5] {
        let province = region.get(..2).unwrap_or("");
        self.star_approval
            .get(province)
            .or_else(|| self.star_approval.get("default"))
            .copied()
            .unwrap_or(FUJIAN_STARS)
    }
}

/// 福建 (2013): one and two stars by the county, three and four by the city, five by the province.
const FUJIAN_STARS: [StarApprover; 5] = [
    StarApprover::County,
    StarApprover::County,
    StarApprover::City,
    StarApprover::City,
    StarApprover::Province,
];

impl Default for VolunteerRules {
    fn default() -> Self {
        Self {
            hours_publicity_days: shegong_domain::volunteers::activities::HOURS_PUBLICITY_DAYS,
            star_approval: std::collections::BTreeMap::new(),
        }
    }
}

/// Bounds on reading an uploaded spreadsheet, so that no upload can exhaust memory or time
/// (docs/configuration.md explains each). Sized for the largest real roster, about 200,000
/// rows × 60 columns.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportLimits {
    /// The uploaded file itself.
    pub max_file_bytes: u64,
    /// Entries in an xlsx/ods zip container.
    pub max_zip_entries: u64,
    /// Uncompressed size of any one entry.
    pub max_entry_bytes: u64,
    /// Uncompressed size of all entries together.
    pub max_uncompressed_bytes: u64,
    /// Uncompressed ÷ compressed size of an entry (entries above 1 MiB).
    pub max_ratio: u64,
    /// Rows counted from the top of the sheet.
    pub max_rows: u64,
    /// Columns counted from column A.
    pub max_columns: u64,
    /// Cells read from one sheet (the declared area of an xlsx sheet as well).
    pub max_cells: u64,
    /// Time for reading one upload.
    pub parse_seconds: u64,
    /// Uploads read at the same time in this process; further ones wait.
    pub parallel_parses: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 20 * 1024 * 1024,
            max_zip_entries: 1_000,
            max_entry_bytes: 512 * 1024 * 1024,
            max_uncompressed_bytes: 1024 * 1024 * 1024,
            max_ratio: 100,
            max_rows: 200_000,
            max_columns: 256,
            max_cells: 12_000_000,
            parse_seconds: 30,
            parallel_parses: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub idle_minutes: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockoutConfig {
    pub max_failures: i64,
    pub minutes: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Entries older than this are removed by the hourly housekeeping. Never below 180 (等保: ≥ 6 months).
    pub retention_days: i64,
}

pub const MIN_AUDIT_RETENTION_DAYS: i64 = 180;

/// Field encryption: the key ring lives in its own file, never in the database.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CryptoConfig {
    /// Created with one random key on first start if missing (mode 0600). Back it up apart
    /// from the database: without it sealed values cannot be read.
    pub key_file: String,
    /// Algorithm of keys created here: `aes-256-gcm` (default) or `sm4-gcm` (国密).
    pub algorithm: shegong_store::crypto::Algorithm,
}

impl Default for CryptoConfig {
    fn default() -> Self {
        Self {
            key_file: "data/keys.toml".into(),
            algorithm: shegong_store::crypto::Algorithm::Aes256Gcm,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/shegong.db".into(),
            bind: "127.0.0.1:8080".into(),
            metrics_bind: "127.0.0.1:9464".into(),
            demo: false,
            secure_cookies: false,
            trust_proxy: false,
            session: SessionConfig::default(),
            lockout: LockoutConfig::default(),
            password: PasswordPolicy::default(),
            audit: AuditConfig::default(),
            attachments_dir: "data/attachments".into(),
            crypto: CryptoConfig::default(),
            body_limit: 20 * 1024 * 1024,
            portal_min_cell: 10,
            request_timeout_secs: 60,
            import: ImportLimits::default(),
            twofactor_for_administrators: true,
            volunteers: VolunteerRules::default(),
            community: CommunityRules::default(),
            hotline: HotlineRules::default(),
            maps: MapsConfig::default(),
            notify: NotifyConfig::default(),
            read_replica_url: String::new(),
            read_your_writes_secs: 10,
            offline: OfflineConfig::default(),
            sqlite_cache: shegong_store::SqliteCaches::default(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { idle_minutes: 30 }
    }
}

impl Default for LockoutConfig {
    fn default() -> Self {
        Self {
            max_failures: 5,
            minutes: 15,
        }
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            retention_days: 365,
        }
    }
}

impl Config {
    /// Refuse settings that would break a security obligation.
    pub fn validate(&self) -> Result<(), String> {
        if !self.read_replica_url.is_empty()
            && (shegong_store::Backend::from_url(&self.database_url)
                != Some(shegong_store::Backend::Postgres)
                || shegong_store::Backend::from_url(&self.read_replica_url)
                    != Some(shegong_store::Backend::Postgres))
        {
            return Err(
                "read_replica_url: a postgres:// replica, and only with a postgres:// database_url"
                    .into(),
            );
        }
        if self.audit.retention_days < MIN_AUDIT_RETENTION_DAYS {
            return Err(format!(
                "audit.retention_days = {} is below the minimum of {MIN_AUDIT_RETENTION_DAYS} days",
                self.audit.retention_days
            ));
        }
        if self.session.idle_minutes < 1 {
            return Err("session.idle_minutes must be at least 1".into());
        }
        if self.lockout.max_failures < 1 || self.lockout.minutes < 1 {
            return Err("lockout.max_failures and lockout.minutes must be at least 1".into());
        }
        if self.password.min_length < 8 || self.password.min_classes > 4 {
            return Err("password.min_length must be ≥ 8 and password.min_classes ≤ 4".into());
        }
        if self.portal_min_cell < 1 {
            return Err("portal_min_cell must be at least 1".into());
        }
        for (region, p) in &self.community.issue_due {
            if p.validate().is_err() {
                return Err(format!(
                    "community.issue_due.{region}: every allowance must be 1 minute or 1 hour to a year, or 1 to 260 working days"
                ));
            }
        }
        if !self.maps.dir.is_empty() && self.maps.approval.trim().is_empty() {
            return Err(
                "maps.dir needs maps.approval, the approval number (审图号) of its boundary set"
                    .into(),
            );
        }
        if !(1..=5000).contains(&self.offline.max_files) {
            return Err("offline.max_files must be 1 to 5000".into());
        }
        let c = &self.sqlite_cache;
        for (key, mib) in [
            ("reader_mib", c.reader_mib),
            ("writer_mib", c.writer_mib),
            ("bulk_mib", c.bulk_mib),
        ] {
            if !(1..=16384).contains(&mib) {
                return Err(format!("sqlite_cache.{key} must be 1 to 16384 (MiB)"));
            }
        }
        self.hotline.validate()?;
        self.import.validate()
    }

    pub fn session_idle_millis(&self) -> i64 {
        self.session.idle_minutes * 60_000
    }
}

impl ImportLimits {
    /// Every bound must be set: a zero would refuse every file, and there is no "unlimited".
    pub fn validate(&self) -> Result<(), String> {
        let bounds = [
            ("max_file_bytes", self.max_file_bytes),
            ("max_zip_entries", self.max_zip_entries),
            ("max_entry_bytes", self.max_entry_bytes),
            ("max_uncompressed_bytes", self.max_uncompressed_bytes),
            ("max_ratio", self.max_ratio),
            ("max_rows", self.max_rows),
            ("max_columns", self.max_columns),
            ("max_cells", self.max_cells),
            ("parse_seconds", self.parse_seconds),
            ("parallel_parses", self.parallel_parses as u64),
        ];
        if let Some((name, _)) = bounds.iter().find(|(_, v)| *v == 0) {
            return Err(format!("import.{name} must be at least 1"));
        }
        if self.max_entry_bytes > self.max_uncompressed_bytes {
            return Err(
                "import.max_entry_bytes must not exceed import.max_uncompressed_bytes".into(),
            );
        }
        // Excel's own grid: a larger bound would only hide a typo.
        if self.max_rows > 1_048_576 || self.max_columns > 16_384 {
            return Err("import.max_rows must be ≤ 1048576 and import.max_columns ≤ 16384".into());
        }
        if self.parallel_parses > 64 {
            return Err("import.parallel_parses must be ≤ 64".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_file_overrides_apply() {
        Config::default().validate().unwrap();
        let c: Config =
            toml::from_str("bind = \"0.0.0.0:80\"\n[session]\nidle_minutes = 10\n").unwrap();
        assert_eq!(c.bind, "0.0.0.0:80");
        assert_eq!(c.session.idle_minutes, 10);
        assert_eq!(c.lockout.max_failures, 5);
    }

    #[test]
    fn the_example_file_parses_and_holds_the_defaults() {
        let c: Config = toml::from_str(include_str!("../../../shegong.example.toml")).unwrap();
        c.validate().unwrap();
        let d = Config::default();
        assert_eq!(
            (c.bind, c.session.idle_minutes, c.audit.retention_days),
            (d.bind, d.session.idle_minutes, d.audit.retention_days)
        );
        assert_eq!(c.crypto.key_file, d.crypto.key_file);
        assert_eq!(c.import, d.import);
        assert_eq!(c.volunteers, d.volunteers);
        assert_eq!(c.sqlite_cache, d.sqlite_cache);
    }

    #[test]
    fn sqlite_caches_are_bounded_and_named_when_refused() {
        let c: Config = toml::from_str("[sqlite_cache]\nreader_mib = 16\n").unwrap();
        c.validate().unwrap();
        assert_eq!(
            (c.sqlite_cache.reader_mib, c.sqlite_cache.writer_mib),
            (16, 64)
        );
        let zero: Config = toml::from_str("[sqlite_cache]\nbulk_mib = 0\n").unwrap();
        assert!(
            zero.validate()
                .unwrap_err()
                .contains("sqlite_cache.bulk_mib")
        );
        assert!(toml::from_str::<Config>("[sqlite_cache]\nreader = 4\n").is_err());
    }

    #[test]
    fn issue_policies_follow_the_longest_region_code_then_the_default() {
        use shegong_domain::community::{Allowance, Colour};
        let c: Config = toml::from_str(
            "[community.issue_due.default]\nred = { hours = 12 }\nyellow = { working_days = 3 }\nblue = { hours = 4 }\n\
             [community.issue_due.4302]\nred = { hours = 24 }\nyellow = { working_days = 5 }\nblue = { hours = 8 }\n",
        )
        .unwrap();
        c.validate().unwrap();
        let p = c.community.issue_policy("430202001");
        assert_eq!(p.allowance(Colour::Red), Allowance::Hours(24));
        let p = c.community.issue_policy("440106001");
        assert_eq!(p.allowance(Colour::Yellow), Allowance::WorkingDays(3));
        let bad: Config = toml::from_str(
            "[community.issue_due.43]\nred = { hours = 0 }\nyellow = { hours = 1 }\nblue = { hours = 1 }\n",
        )
        .unwrap();
        assert!(
            bad.validate()
                .unwrap_err()
                .contains("community.issue_due.43")
        );
        assert!(
            toml::from_str::<Config>("[community.issue_due.43]\nred = { days = 1 }\n").is_err()
        );
    }

    #[test]
    fn star_approvers_follow_the_province_then_the_default() {
        let c: Config = toml::from_str(
            "[volunteers]\nhours_publicity_days = 0\n[volunteers.star_approval]\n\
             44 = [\"county\", \"county\", \"county\", \"city\", \"province\"]\n",
        )
        .unwrap();
        assert_eq!(c.volunteers.hours_publicity_days, 0);
        let gd = c.volunteers.star_approvers("440106001");
        assert_eq!(gd[2], StarApprover::County);
        let hn = c.volunteers.star_approvers("430203001");
        assert_eq!((hn[2], hn[4]), (StarApprover::City, StarApprover::Province));
        assert!(toml::from_str::<Config>("[volunteers.star_approval]\n44 = [\"town\"]\n").is_err());
    }

    #[test]
    fn import_limits_default_from_a_partial_section_and_zero_is_refused() {
        let c: Config = toml::from_str("[import]\nmax_rows = 50000\n").unwrap();
        assert_eq!(c.import.max_rows, 50_000);
        assert_eq!(c.import.max_columns, ImportLimits::default().max_columns);
        c.validate().unwrap();
        let c: Config = toml::from_str("[import]\nparse_seconds = 0\n").unwrap();
        assert!(c.validate().unwrap_err().contains("import.parse_seconds"));
        assert!(toml::from_str::<Config>("[import]\nmax_rowz = 1\n").is_err());
    }

    #[test]
    fn audit_retention_below_six_months_is_refused() {
        let mut c = Config::default();
        c.audit.retention_days = 90;
        assert!(c.validate().unwrap_err().contains("180"));
    }

    #[test]
    fn ticket_time_limits_are_configured_per_category() {
        use shegong_domain::hotline::{Category, Sla};
        let d = Config::default();
        assert_eq!(d.hotline.sla(Category::Crisis), Sla::SameDay);
        assert_eq!(d.hotline.sla(Category::Consult), Sla::WorkingDays(3));
        assert_eq!(d.hotline.sla(Category::Complaint), Sla::WorkingDays(13));
        assert_eq!(d.hotline.escalation_working_days, 5);
        assert!(d.hotline.crisis_protocol.contains("110"));
        let c: Config = toml::from_str(
            "[hotline]\nescalation_working_days = 2\n[hotline.sla]\ncomplaint = \"5\"\nhelp = \"same_day\"\nconsult = \"x\"\n",
        )
        .unwrap();
        assert_eq!(c.hotline.sla(Category::Complaint), Sla::WorkingDays(5));
        assert_eq!(c.hotline.sla(Category::Help), Sla::SameDay);
        // A value that is not a rule is refused at start (and would fall back to the default).
        assert_eq!(c.hotline.sla(Category::Consult), Sla::WorkingDays(3));
        assert!(c.validate().unwrap_err().contains("consult"));
        assert_eq!(c.hotline.escalation_working_days, 2);
        assert!(toml::from_str::<Config>("[hotline]\nsla_days = 1\n").is_err());
    }
}
