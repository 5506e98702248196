//! 社区慈善: community funds (hosted by a charity with public-fundraising status; no account of
//! their own), their management committees, donations of money and goods with their receipts,
//! small wishes (微心愿), disbursements decided by the committee, and goods stock.
//!
//! Scoped like volunteer teams: a fund is visible to the scopes containing its region (and, for
//! an organisation's scope, run by one of its stations); everything of a fund is visible with it.
//! Outside that, a fund, donation, wish or disbursement does not exist (`NotFound`).
//!
//! What is published (`public_*`) carries no personal data: no donor of a wish, no recipient,
//! no resident; a wish shows its title, category, value and state.

use serde::Serialize;
use shegong_domain::charity::{
    self as ch, CommitteeRole, DisbursementState, DonationFacts, DonationKind, MoveKind,
    TargetKind, UseKind, WishState,
};
use shegong_domain::{FieldError, RegionCode, Scope};
use sqlx::AnyConnection;

use shegong_domain::network::station::ServiceDomain;
use shegong_domain::people::ServiceKind;

use crate::crypto::KeyRing;
use crate::network::station_scope;
use crate::people::residents::{Viewer, in_scope};
use crate::people::services;
use crate::sql::Sql;
use crate::statistics::counters;
use crate::{Millis, Page, PageRequest, StoreError, StoreResult, new_id};

fn refuse<T>(field: &'static str, code: &'static str) -> StoreResult<T> {
    Err(FieldError::new(field, code).into())
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

// ---------------------------------------------------------------------------------------------
// Funds

#[derive(Debug, Clone)]
pub struct FundInput {
    pub region: RegionCode,
    pub station_id: Option<String>,
    pub name: String,
    pub host_name: String,
    pub host_uscc: String,
    pub host_public_fundraising: bool,
    pub initiator: String,
    pub purpose: String,
    pub residual_rule: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Fund {
    pub id: String,
    pub region_code: String,
    pub region_path: Option<String>,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub name: String,
    pub host_name: String,
    pub host_uscc: String,
    pub initiator: String,
    pub purpose: String,
    pub residual_rule: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    /// Money donated (fen).
    pub income_fen: i64,
    /// Declared value of goods donated (fen).
    pub goods_fen: i64,
    /// Approved and paid disbursements (fen): committed.
    pub committed_fen: i64,
    pub paid_fen: i64,
    /// Deciding members (chair and members) and supervisors.
    pub members: i64,
    pub supervisors: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Fund {
    /// Money not yet committed to a disbursement.
    pub fn available_fen(&self) -> i64 {
        self.income_fen - self.committed_fen
    }
}

const FUND_SELECT: &str = "SELECT f.id, f.region_code, g.path_names AS region_path, f.station_id, s.name AS station_name, \
     f.name, f.host_name, f.host_uscc, f.initiator, f.purpose, f.residual_rule, f.starts_on, f.ends_on, \
     CAST(COALESCE((SELECT SUM(d.amount_fen) FROM charity_donations d WHERE d.fund_id = f.id AND d.kind = 'money'), 0) AS BIGINT) AS income_fen, \
     CAST(COALESCE((SELECT SUM(d.amount_fen) FROM charity_donations d WHERE d.fund_id = f.id AND d.kind = 'goods'), 0) AS BIGINT) AS goods_fen, \
     CAST(COALESCE((SELECT SUM(x.amount_fen) FROM charity_disbursements x WHERE x.fund_id = f.id AND x.state IN ('approved','paid')), 0) AS BIGINT) AS committed_fen, \
     CAST(COALESCE((SELECT SUM(x.amount_fen) FROM charity_disbursements x WHERE x.fund_id = f.id AND x.state = 'paid'), 0) AS BIGINT) AS paid_fen, \
     (SELECT COUNT(*) FROM charity_committee m WHERE m.fund_id = f.id AND m.role <> 'supervisor') AS members, \
     (SELECT COUNT(*) FROM charity_committee m WHERE m.fund_id = f.id AND m.role = 'supervisor') AS supervisors, \
     f.created_at, f.updated_at \
     FROM charity_funds f LEFT JOIN regions g ON g.code = f.region_code LEFT JOIN stations s ON s.id = f.station_id \
     WHERE 1 = 1";

/// The fund a record is written to: outside scope or unknown, a refusal naming `fund_id`.
/// A station in scope (a fund's, a donation site); unknown or outside scope, a refusal.
async fn station_for(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<station_scope::StationPlace> {
    match station_scope::place(conn, scope, id).await {
        Err(StoreError::NotFound) => refuse("station", "staff.station_unknown"),
        other => other,
    }
}

async fn fund_for(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Fund> {
    match get_fund(conn, scope, id).await {
        Err(StoreError::NotFound) => refuse("fund_id", "charity.fund_unknown"),
        other => other,
    }
}

fn restrict(q: &mut Sql, scope: &Scope) {
    in_scope(q, scope, "f.region_code", "f.station_id", true);
}

fn check_text(field: &'static str, v: &str, max: usize, required: bool) -> StoreResult<()> {
    let n = v.trim().chars().count();
    if (required && n == 0) || n > max {
        return refuse(field, "charity.text_invalid");
    }
    Ok(())
}

async fn check_fund(conn: &mut AnyConnection, scope: &Scope, input: &FundInput) -> StoreResult<()> {
    let region = input.region.as_str();
    if !scope.contains_region(region) {
        return refuse("region", "station.region_out_of_scope");
    }
    let known = Sql::new("SELECT COUNT(*) FROM regions WHERE code = ")
        .bind(region)
        .fetch_i64(conn)
        .await?;
    if known == 0 {
        return refuse("region", "region.unknown");
    }
    ch::check_fund_name(&input.name)?;
    ch::check_host(input.host_public_fundraising)?;
    shegong_domain::network::org::check_uscc(&input.host_uscc)
        .map_err(|_| FieldError::new("host_uscc", "uscc.invalid_format"))?;
    check_text("host_name", &input.host_name, 100, true)?;
    check_text("initiator", &input.initiator, 100, false)?;
    check_text("purpose", &input.purpose, 1000, true)?;
    check_text("residual_rule", &input.residual_rule, 1000, true)?;
    if input
        .ends_on
        .as_deref()
        .is_some_and(|e| *e < *input.starts_on)
    {
        return refuse("ends_on", "charity.ends_before_start");
    }
    if scope.org.is_some() && input.station_id.is_none() {
        return refuse("station", "volunteer.station_required_org");
    }
    if let Some(sid) = &input.station_id {
        let st = station_for(conn, scope, sid).await?;
        if !st.region_code.starts_with(region) && !region.starts_with(&st.region_code) {
            return refuse("station", "volunteer.station_elsewhere");
        }
    }
    let taken = Sql::new("SELECT COUNT(*) FROM charity_funds WHERE region_code = ")
        .bind(region)
        .push(" AND name = ")
        .bind(input.name.trim())
        .fetch_i64(conn)
        .await?;
    if taken > 0 {
        return refuse("name", "charity.name_taken");
    }
    Ok(())
}

pub async fn create_fund(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &FundInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    check_fund(conn, scope, input).await?;
    let id = new_id();
    Sql::new("INSERT INTO charity_funds (id, region_code, station_id, name, host_name, host_uscc, host_public_fundraising, initiator, purpose, residual_rule, starts_on, ends_on, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(input.region.as_str()).push(", ").bind(opt(&input.station_id)).push(", ")
        .bind(input.name.trim()).push(", ").bind(input.host_name.trim()).push(", ").bind(input.host_uscc.trim())
        .push(", 1, ").bind(input.initiator.trim()).push(", ").bind(input.purpose.trim()).push(", ")
        .bind(input.residual_rule.trim()).push(", ").bind(input.starts_on.as_str()).push(", ").bind(opt(&input.ends_on))
        .push(", ").bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

pub async fn get_fund(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Fund> {
    let mut q = Sql::new(FUND_SELECT);
    q.push(" AND f.id = ").bind(id);
    restrict(&mut q, scope);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// End a running fund on `ends_on` (from then the full disclosure is due within three months).
/// Returns the fund as it was.
pub async fn end_fund(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    ends_on: &str,
    now: Millis,
) -> StoreResult<Fund> {
    let before = get_fund(conn, scope, id).await?;
    if before.ends_on.is_some() {
        return refuse("ends_on", "charity.already_ended");
    }
    if *ends_on < *before.starts_on {
        return refuse("ends_on", "charity.ends_before_start");
    }
    let n = Sql::new("UPDATE charity_funds SET ends_on = ")
        .bind(ends_on)
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE ends_on IS NULL AND id = ")
        .bind(id)
        .execute(conn)
        .await?;
    if n == 0 {
        return refuse("ends_on", "charity.already_ended");
    }
    Ok(before)
}

/// A page of the funds in scope, by region and name; `text`: name or host contains.
pub async fn list_funds(
    conn: &mut AnyConnection,
    scope: &Scope,
    text: Option<&str>,
    page: PageRequest,
) -> StoreResult<Page<Fund>> {
    let f = FundFilter {
        text: text.map(str::to_owned),
        ..FundFilter::default()
    };
    list_funds_by(conn, scope, &f, page).await
}

#[derive(Debug, Clone, Default)]
pub struct FundFilter {
    /// Name or host contains.
    pub text: Option<String>,
    /// A key of `FUND_SORTS`; none is the default order (by region, then name).
    pub sort: Option<crate::Sort>,
    /// Only these funds (a batch selection).
    pub ids: Option<Vec<String>>,
}

/// The orders a fund list offers (key, column; `DESC`: the latest or largest first).
pub const FUND_SORTS: &[(&str, &str)] = &[
    ("name", "f.name"),
    ("region", "f.region_code"),
    ("host", "f.host_name"),
    ("starts", "f.starts_on DESC"),
    ("income", "income_fen DESC"),
    ("committed", "committed_fen DESC"),
];

/// A page of the funds in scope matching `f`.
pub async fn list_funds_by(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &FundFilter,
    page: PageRequest,
) -> StoreResult<Page<Fund>> {
    let text = f.text.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let mut count = Sql::new("SELECT COUNT(*) FROM charity_funds f WHERE 1 = 1");
    restrict(&mut count, scope);
    let mut q = Sql::new(FUND_SELECT);
    restrict(&mut q, scope);
    if let Some(t) = text {
        count.contains_any(&["f.name", "f.host_name"], t);
        q.contains_any(&["f.name", "f.host_name"], t);
    }
    if let Some(ids) = &f.ids {
        count.push(" AND ");
        count.in_list("f.id", ids);
        q.push(" AND ");
        q.in_list("f.id", ids);
    }
    if !f.sort.is_some_and(|s| q.order(s, FUND_SORTS, "f.id")) {
        q.push(" ORDER BY f.region_code, f.name, f.id");
    }
    q.fetch_page(conn, &count, page).await
}

// ---------------------------------------------------------------------------------------------
// The committee

#[derive(Debug, Clone)]
pub struct MemberInput {
    pub name: String,
    pub role: CommitteeRole,
    pub affiliation: String,
    pub unpaid: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Member {
    pub id: String,
    pub fund_id: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: CommitteeRole,
    pub affiliation: String,
    pub created_at: i64,
}

pub async fn add_member(
    conn: &mut AnyConnection,
    scope: &Scope,
    fund_id: &str,
    input: &MemberInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let fund = get_fund(conn, scope, fund_id).await?;
    check_text("name", &input.name, 50, true)?;
    check_text("affiliation", &input.affiliation, 100, false)?;
    ch::check_unpaid(input.unpaid)?;
    if input.role == CommitteeRole::Chair {
        let chairs =
            Sql::new("SELECT COUNT(*) FROM charity_committee WHERE role = 'chair' AND fund_id = ")
                .bind(fund_id)
                .fetch_i64(conn)
                .await?;
        if chairs > 0 {
            return refuse("role", "charity.committee_two_chairs");
        }
    }
    let same = Sql::new("SELECT COUNT(*) FROM charity_committee WHERE fund_id = ")
        .bind(fund_id)
        .push(" AND name = ")
        .bind(input.name.trim())
        .fetch_i64(conn)
        .await?;
    if same > 0 {
        return refuse("name", "charity.member_twice");
    }
    let id = new_id();
    Sql::new("INSERT INTO charity_committee (id, fund_id, region_code, name, role, affiliation, unpaid, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(fund_id).push(", ").bind(fund.region_code.as_str()).push(", ").bind(input.name.trim())
        .push(", ").bind(input.role.as_str()).push(", ").bind(input.affiliation.trim()).push(", 1, ").bind(by)
        .push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

pub async fn committee(
    conn: &mut AnyConnection,
    scope: &Scope,
    fund_id: &str,
) -> StoreResult<Vec<Member>> {
    get_fund(conn, scope, fund_id).await?;
    Sql::new("SELECT id, fund_id, name, role, affiliation, created_at FROM charity_committee WHERE fund_id = ")
        .bind(fund_id)
        .push(" ORDER BY CASE role WHEN 'chair' THEN 0 WHEN 'member' THEN 1 ELSE 2 END, created_at, id LIMIT 200")
        .fetch_all(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// Donations

#[derive(Debug, Clone)]
pub struct DonationInput {
    pub fund_id: String,
    pub kind: DonationKind,
    /// Money: the amount; goods: their declared value (0 when none was declared).
    pub amount_fen: i64,
    pub item: String,
    pub quantity: i64,
    pub unit: String,
    pub donor_name: String,
    pub receipt: ch::Receipt,
    pub receipt_no: String,
    pub use_kind: UseKind,
    pub designated_purpose: String,
    pub channel: ch::Channel,
    /// The donation site: a station in scope.
    pub station_id: Option<String>,
    pub received_on: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Donation {
    pub id: String,
    pub fund_id: String,
    pub fund_name: String,
    #[sqlx(try_from = "String")]
    pub kind: DonationKind,
    pub amount_fen: i64,
    pub item: String,
    pub quantity: i64,
    pub unit: String,
    pub donor_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub receipt: ch::Receipt,
    pub receipt_no: Option<String>,
    #[sqlx(try_from = "String")]
    pub use_kind: UseKind,
    pub designated_purpose: String,
    #[sqlx(try_from = "String")]
    pub channel: ch::Channel,
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub received_on: String,
    pub created_at: i64,
}

const DONATION_SELECT: &str = "SELECT d.id, d.fund_id, f.name AS fund_name, d.kind, d.amount_fen, d.item, d.quantity, d.unit, \
     d.donor_name, d.receipt, d.receipt_no, d.use_kind, d.designated_purpose, d.channel, d.station_id, s.name AS station_name, \
     d.received_on, d.created_at FROM charity_donations d JOIN charity_funds f ON f.id = d.fund_id \
     LEFT JOIN stations s ON s.id = d.station_id WHERE 1 = 1";

fn donation_errors(input: &DonationInput) -> Vec<FieldError> {
    let mut errors = ch::check_donation(&DonationFacts {
        kind: input.kind,
        amount_fen: input.amount_fen,
        item: &input.item,
        quantity: input.quantity,
        receipt: input.receipt,
        receipt_no: &input.receipt_no,
        donor_name: &input.donor_name,
        use_kind: input.use_kind,
        designated_purpose: &input.designated_purpose,
    });
    for (field, text, max) in [
        ("goods_item", &input.item, 100),
        ("unit", &input.unit, 20),
        ("donor_name", &input.donor_name, 100),
        ("receipt_no", &input.receipt_no, 50),
        ("designated_purpose", &input.designated_purpose, 200),
    ] {
        if text.trim().chars().count() > max && !errors.iter().any(|e| e.field == field) {
            errors.push(FieldError::new(field, "charity.text_invalid"));
        }
    }
    errors
}

/// Record a donation; a donation of goods also enters the fund's stock. Refused: a receipt
/// number the host has already issued, a donation site outside scope.
pub async fn create_donation(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &DonationInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let fund = fund_for(conn, scope, &input.fund_id).await?;
    if let Some(e) = donation_errors(input).into_iter().next() {
        return Err(e.into());
    }
    let receipt_no =
        (input.receipt == ch::Receipt::Issued).then(|| input.receipt_no.trim().to_owned());
    if let Some(no) = &receipt_no {
        let taken = Sql::new("SELECT COUNT(*) FROM charity_donations WHERE host_uscc = ")
            .bind(fund.host_uscc.as_str())
            .push(" AND receipt_no = ")
            .bind(no.as_str())
            .fetch_i64(conn)
            .await?;
        if taken > 0 {
            return refuse("receipt_no", "charity.receipt_no_taken");
        }
    }
    let station = opt(&input.station_id);
    if let Some(sid) = &station {
        station_for(conn, scope, sid).await?;
    }
    let goods = input.kind == DonationKind::Goods;
    let donor =
        (input.receipt != ch::Receipt::Anonymous).then(|| input.donor_name.trim().to_owned());
    let id = new_id();
    Sql::new("INSERT INTO charity_donations (id, fund_id, region_code, kind, amount_fen, item, quantity, unit, donor_name, receipt, receipt_no, host_uscc, use_kind, designated_purpose, channel, station_id, received_on, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(fund.id.as_str()).push(", ").bind(fund.region_code.as_str()).push(", ").bind(input.kind.as_str())
        .push(", ").bind(input.amount_fen).push(", ").bind(if goods { input.item.trim() } else { "" })
        .push(", ").bind(if goods { input.quantity } else { 0 }).push(", ").bind(if goods { input.unit.trim() } else { "" })
        .push(", ").bind(donor).push(", ").bind(input.receipt.as_str()).push(", ").bind(receipt_no)
        .push(", ").bind(fund.host_uscc.as_str()).push(", ").bind(input.use_kind.as_str()).push(", ")
        .bind(if input.use_kind == UseKind::Designated { input.designated_purpose.trim() } else { "" })
        .push(", ").bind(input.channel.as_str()).push(", ").bind(station).push(", ").bind(input.received_on.as_str())
        .push(", ").bind(by).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    let key = input.kind.as_str();
    counters::charity(
        conn,
        &fund.region_code,
        &input.received_on,
        key,
        input.amount_fen,
    )
    .await?;
    if goods {
        let mv = StockInput {
            fund_id: fund.id.clone(),
            item: input.item.trim().to_owned(),
            unit: input.unit.trim().to_owned(),
            kind: MoveKind::Receipt,
            quantity: input.quantity,
            signed_by: String::new(),
            note: String::new(),
            moved_on: input.received_on.clone(),
        };
        insert_move(conn, &fund, &mv, (mv.quantity, None), Some(&id), (by, now)).await?;
    }
    Ok(id)
}

#[derive(Debug, Clone, Default)]
pub struct DonationFilter {
    pub fund_id: Option<String>,
    pub kind: Option<DonationKind>,
    /// Donor, item or receipt number contains.
    pub q: Option<String>,
}

fn donations_filtered(scope: &Scope, f: &DonationFilter, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    restrict(&mut q, scope);
    if let Some(id) = &f.fund_id {
        q.push(" AND d.fund_id = ").bind(id.as_str());
    }
    if let Some(k) = f.kind {
        q.push(" AND d.kind = ").bind(k.as_str());
    }
    if let Some(t) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.contains_any(&["d.donor_name", "d.item", "d.receipt_no"], t);
    }
    q
}

/// Donations in scope, newest first.
pub async fn list_donations(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &DonationFilter,
    page: PageRequest,
) -> StoreResult<Page<Donation>> {
    let count = donations_filtered(
        scope,
        f,
        "SELECT COUNT(*) FROM charity_donations d JOIN charity_funds f ON f.id = d.fund_id WHERE 1 = 1",
    );
    let mut q = donations_filtered(scope, f, DONATION_SELECT);
    q.push(" ORDER BY d.received_on DESC, d.created_at DESC, d.id");
    q.fetch_page(conn, &count, page).await
}

pub async fn get_donation(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Donation> {
    let mut q = Sql::new(DONATION_SELECT);
    restrict(&mut q, scope);
    q.push(" AND d.id = ").bind(id);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Residents helped (kept internal)

/// The name of an active resident on file in the fund's region, or the refusal naming `field`.
async fn resident_name(
    conn: &mut AnyConnection,
    fund: &Fund,
    id: &str,
    field: &'static str,
) -> StoreResult<String> {
    let region = RegionCode::parse(&fund.region_code)
        .map_err(|_| FieldError::new(field, "charity.resident_unknown"))?;
    let mut q = Sql::new("SELECT name FROM residents WHERE id = ");
    q.bind(id).push(" AND status = 'active' AND ");
    q.region_range("region_code", &Scope::region(region));
    let found: Option<(String,)> = q.fetch_optional(conn).await?;
    match found {
        Some((name,)) => Ok(name),
        None => refuse(field, "charity.resident_unknown"),
    }
}

/// What is published must not name the person helped.
fn check_public_text(field: &'static str, text: &str, name: &str) -> StoreResult<()> {
    let name = name.trim();
    if name.chars().count() >= 2 && text.contains(name) {
        return refuse(field, "charity.text_personal");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Small wishes (微心愿)

#[derive(Debug, Clone)]
pub struct WishInput {
    pub fund_id: String,
    /// What is published: the wish, without the person's name.
    pub title: String,
    pub category: String,
    pub value_fen: i64,
    /// The person or family on file (internal).
    pub beneficiary_resident_id: Option<String>,
    pub beneficiary_note: String,
    pub posted_on: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Wish {
    pub id: String,
    pub fund_id: String,
    pub fund_name: String,
    pub region_code: String,
    pub title: String,
    pub category: String,
    pub value_fen: i64,
    pub beneficiary_resident_id: Option<String>,
    pub beneficiary_name: Option<String>,
    pub beneficiary_note: String,
    #[sqlx(try_from = "String")]
    pub state: WishState,
    pub claimant: String,
    pub posted_on: String,
    pub claimed_on: Option<String>,
    pub fulfilled_on: Option<String>,
    pub confirmed_on: Option<String>,
    pub created_at: i64,
}

const WISH_SELECT: &str = "SELECT w.id, w.fund_id, f.name AS fund_name, w.region_code, w.title, w.category, w.value_fen, \
     w.beneficiary_resident_id, r.name AS beneficiary_name, w.beneficiary_note, w.state, w.claimant, w.posted_on, \
     w.claimed_on, w.fulfilled_on, w.confirmed_on, w.created_at \
     FROM charity_wishes w JOIN charity_funds f ON f.id = w.fund_id LEFT JOIN residents r ON r.id = w.beneficiary_resident_id \
     WHERE 1 = 1";

pub async fn create_wish(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &WishInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let fund = fund_for(conn, scope, &input.fund_id).await?;
    check_text("title", &input.title, 100, true)?;
    check_text("category", &input.category, 30, false)?;
    check_text("beneficiary_note", &input.beneficiary_note, 500, false)?;
    if !(0..=ch::MAX_FEN).contains(&input.value_fen) {
        return refuse("value", "charity.amount_invalid");
    }
    let resident = opt(&input.beneficiary_resident_id);
    if let Some(rid) = &resident {
        let name = resident_name(conn, &fund, rid, "beneficiary_resident_id").await?;
        check_public_text("title", &input.title, &name)?;
    }
    let id = new_id();
    Sql::new("INSERT INTO charity_wishes (id, fund_id, region_code, title, category, value_fen, beneficiary_resident_id, beneficiary_note, state, posted_on, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(fund.id.as_str()).push(", ").bind(fund.region_code.as_str()).push(", ").bind(input.title.trim())
        .push(", ").bind(input.category.trim()).push(", ").bind(input.value_fen).push(", ").bind(resident)
        .push(", ").bind(input.beneficiary_note.trim()).push(", 'posted', ").bind(input.posted_on.as_str())
        .push(", ").bind(by).push(", ").bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

pub async fn get_wish(conn: &mut AnyConnection, scope: &Scope, id: &str) -> StoreResult<Wish> {
    let mut q = Sql::new(WISH_SELECT);
    restrict(&mut q, scope);
    q.push(" AND w.id = ").bind(id);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct WishFilter {
    pub fund_id: Option<String>,
    pub state: Option<WishState>,
}

fn wishes_filtered(scope: &Scope, f: &WishFilter, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    restrict(&mut q, scope);
    if let Some(id) = &f.fund_id {
        q.push(" AND w.fund_id = ").bind(id.as_str());
    }
    if let Some(s) = f.state {
        q.push(" AND w.state = ").bind(s.as_str());
    }
    q
}

/// Wishes in scope, newest first.
pub async fn list_wishes(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &WishFilter,
    page: PageRequest,
) -> StoreResult<Page<Wish>> {
    let count = wishes_filtered(
        scope,
        f,
        "SELECT COUNT(*) FROM charity_wishes w JOIN charity_funds f ON f.id = w.fund_id WHERE 1 = 1",
    );
    let mut q = wishes_filtered(scope, f, WISH_SELECT);
    q.push(" ORDER BY w.posted_on DESC, w.created_at DESC, w.id");
    q.fetch_page(conn, &count, page).await
}

/// Move a wish one step (claimed by `claimant`, fulfilled, confirmed) on `on`. Returns the wish
/// as it was.
pub async fn step_wish(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    to: WishState,
    claimant: &str,
    on: &str,
    now: Millis,
) -> StoreResult<Wish> {
    let before = get_wish(conn, scope, id).await?;
    ch::check_wish_step(before.state, to, claimant)?;
    check_text("claimant", claimant, 100, false)?;
    let mut q = Sql::new("UPDATE charity_wishes SET state = ");
    q.bind(to.as_str()).push(", updated_at = ").bind(now);
    q.push(match to {
        WishState::Claimed => ", claimed_on = ",
        WishState::Fulfilled => ", fulfilled_on = ",
        _ => ", confirmed_on = ",
    })
    .bind(on);
    if to == WishState::Claimed {
        q.push(", claimant = ").bind(claimant.trim());
    }
    q.push(" WHERE id = ")
        .bind(id)
        .push(" AND state = ")
        .bind(before.state.as_str());
    if q.execute(conn).await? == 0 {
        return refuse("state", "charity.wish_step");
    }
    Ok(before)
}

// ---------------------------------------------------------------------------------------------
// Disbursements

#[derive(Debug, Clone)]
pub struct DisbursementInput {
    pub fund_id: String,
    pub target_kind: TargetKind,
    pub wish_id: Option<String>,
    pub recipient_resident_id: Option<String>,
    /// The public purpose; for a wish, its title when left empty.
    pub purpose: String,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Disbursement {
    pub id: String,
    pub fund_id: String,
    pub fund_name: String,
    pub region_code: String,
    #[sqlx(try_from = "String")]
    pub target_kind: TargetKind,
    pub wish_id: Option<String>,
    pub recipient_resident_id: Option<String>,
    pub purpose: String,
    pub amount_fen: i64,
    #[sqlx(try_from = "String")]
    pub state: DisbursementState,
    pub resolution_ref: String,
    pub decided_on: Option<String>,
    pub paid_on: Option<String>,
    pub voucher_no: String,
    /// The service record (资源链接) written when a payment to a resident was recorded.
    pub service_id: Option<String>,
    pub created_at: i64,
}

const DISBURSEMENT_SELECT: &str = "SELECT x.id, x.fund_id, f.name AS fund_name, x.region_code, x.target_kind, x.wish_id, \
     x.recipient_resident_id, x.purpose, x.amount_fen, x.state, x.resolution_ref, x.decided_on, x.paid_on, x.voucher_no, \
     x.service_id, x.created_at FROM charity_disbursements x JOIN charity_funds f ON f.id = x.fund_id WHERE 1 = 1";

/// Propose a disbursement: to a project (a purpose), a person or family on file, or a wish of
/// the fund that is not yet fulfilled.
pub async fn propose(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &DisbursementInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let fund = fund_for(conn, scope, &input.fund_id).await?;
    ch::check_amount("amount", input.amount_fen)?;
    let mut purpose = input.purpose.trim().to_owned();
    let (mut wish_id, mut resident) = (None, None);
    match input.target_kind {
        TargetKind::Wish => {
            let Some(wid) = opt(&input.wish_id) else {
                return refuse("wish_id", "form.required");
            };
            let wish = match get_wish(conn, scope, &wid).await {
                Err(StoreError::NotFound) => return refuse("wish_id", "charity.wish_unknown"),
                other => other?,
            };
            if wish.fund_id != fund.id {
                return refuse("wish_id", "charity.wish_unknown");
            }
            ch::check_wish_target(wish.state)?;
            if purpose.is_empty() {
                purpose = wish.title;
            }
            wish_id = Some(wid);
        }
        TargetKind::Person => {
            let Some(rid) = opt(&input.recipient_resident_id) else {
                return refuse("recipient_resident_id", "form.required");
            };
            let name = resident_name(conn, &fund, &rid, "recipient_resident_id").await?;
            check_public_text("purpose", &purpose, &name)?;
            resident = Some(rid);
        }
        TargetKind::Project => {}
    }
    check_text("purpose", &purpose, 200, true)?;
    let id = new_id();
    Sql::new("INSERT INTO charity_disbursements (id, fund_id, region_code, target_kind, wish_id, recipient_resident_id, purpose, amount_fen, state, created_by, created_at, updated_at) VALUES (")
        .bind(&id).push(", ").bind(fund.id.as_str()).push(", ").bind(fund.region_code.as_str()).push(", ")
        .bind(input.target_kind.as_str()).push(", ").bind(wish_id).push(", ").bind(resident).push(", ")
        .bind(purpose).push(", ").bind(input.amount_fen).push(", 'proposed', ").bind(by).push(", ")
        .bind(now).push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

pub async fn get_disbursement(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
) -> StoreResult<Disbursement> {
    let mut q = Sql::new(DISBURSEMENT_SELECT);
    restrict(&mut q, scope);
    q.push(" AND x.id = ").bind(id);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct DisbursementFilter {
    pub fund_id: Option<String>,
    pub state: Option<DisbursementState>,
}

fn disbursements_filtered(scope: &Scope, f: &DisbursementFilter, select: &'static str) -> Sql {
    let mut q = Sql::new(select);
    restrict(&mut q, scope);
    if let Some(id) = &f.fund_id {
        q.push(" AND x.fund_id = ").bind(id.as_str());
    }
    if let Some(s) = f.state {
        q.push(" AND x.state = ").bind(s.as_str());
    }
    q
}

pub async fn list_disbursements(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &DisbursementFilter,
    page: PageRequest,
) -> StoreResult<Page<Disbursement>> {
    let count = disbursements_filtered(
        scope,
        f,
        "SELECT COUNT(*) FROM charity_disbursements x JOIN charity_funds f ON f.id = x.fund_id WHERE 1 = 1",
    );
    let mut q = disbursements_filtered(scope, f, DISBURSEMENT_SELECT);
    q.push(" ORDER BY x.created_at DESC, x.id");
    q.fetch_page(conn, &count, page).await
}

/// The committee's decision on a proposed disbursement.
#[derive(Debug, Clone)]
pub struct Decision {
    pub approve: bool,
    /// The decision record: resolution number or minutes reference.
    pub resolution_ref: String,
    pub decided_on: String,
}

/// Decide a proposed disbursement. Approval needs a committee that can decide (five or more
/// unpaid deciding members, an odd number, a supervisor) and money not yet committed. Returns the
/// disbursement as it was.
pub async fn decide(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: &str,
    d: &Decision,
    now: Millis,
) -> StoreResult<Disbursement> {
    let before = get_disbursement(conn, scope, id).await?;
    let to = if d.approve {
        DisbursementState::Approved
    } else {
        DisbursementState::Rejected
    };
    ch::check_disbursement_step(before.state, to, &d.resolution_ref)?;
    check_text("resolution_ref", &d.resolution_ref, 100, true)?;
    // Serialise decisions on one fund (a row lock on PostgreSQL; SQLite has one writer).
    Sql::new("UPDATE charity_funds SET updated_at = updated_at WHERE id = ")
        .bind(before.fund_id.as_str())
        .execute(conn)
        .await?;
    if d.approve {
        let roles: Vec<(String,)> = Sql::new("SELECT role FROM charity_committee WHERE fund_id = ")
            .bind(before.fund_id.as_str())
            .fetch_all(conn)
            .await?;
        let roles: Vec<CommitteeRole> = roles
            .iter()
            .filter_map(|(r,)| CommitteeRole::parse(r).ok())
            .collect();
        ch::check_committee(&roles)?;
        let fund = get_fund(conn, scope, &before.fund_id).await?;
        if before.amount_fen > fund.available_fen() {
            return refuse("amount", "charity.over_balance");
        }
    }
    let n = Sql::new("UPDATE charity_disbursements SET state = ")
        .bind(to.as_str())
        .push(", resolution_ref = ")
        .bind(d.resolution_ref.trim())
        .push(", decided_on = ")
        .bind(d.decided_on.as_str())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND state = 'proposed'")
        .execute(conn)
        .await?;
    if n == 0 {
        return refuse("decision", "charity.disbursement_step");
    }
    Ok(before)
}

/// The payment of an approved disbursement.
#[derive(Debug, Clone, Default)]
pub struct Payment {
    pub paid_on: String,
    /// The host's payment voucher.
    pub voucher_no: String,
    /// A payment to a resident writes a service record, which needs its real length (1–1440
    /// minutes): required then, ignored otherwise.
    pub duration_minutes: Option<i64>,
    /// Who paid, as the service record names its workers.
    pub workers: String,
}

/// Record the payment of an approved disbursement (through the host) with its voucher. A
/// payment to a resident on file also writes that resident's service record (资源链接, social
/// assistance, the purpose as its title, the amount as its linked value, at the fund's station),
/// counted like any other, and links it; the payer must be able to see the resident. Returns
/// the disbursement as it was.
pub async fn pay(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    keys: &KeyRing,
    id: &str,
    p: &Payment,
    by: &str,
    now: Millis,
) -> StoreResult<Disbursement> {
    let before = get_disbursement(conn, &viewer.scope, id).await?;
    ch::check_disbursement_step(before.state, DisbursementState::Paid, "")?;
    check_text("voucher_no", &p.voucher_no, 50, false)?;
    let minutes = match (&before.recipient_resident_id, p.duration_minutes) {
        (None, _) => None,
        (Some(_), None) => return refuse("duration_minutes", "form.required"),
        (Some(_), Some(m)) if !(1..=1440).contains(&m) => {
            return refuse("duration_minutes", "form.out_of_range");
        }
        (Some(_), m) => m,
    };
    let n = Sql::new("UPDATE charity_disbursements SET state = 'paid', paid_on = ")
        .bind(p.paid_on.as_str())
        .push(", voucher_no = ")
        .bind(p.voucher_no.trim())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND state = 'approved'")
        .execute(conn)
        .await?;
    if n == 0 {
        return refuse("decision", "charity.disbursement_step");
    }
    counters::charity(
        conn,
        &before.region_code,
        &p.paid_on,
        "paid",
        before.amount_fen,
    )
    .await?;
    if let (Some(resident), Some(minutes)) = (&before.recipient_resident_id, minutes) {
        let station = get_fund(conn, &viewer.scope, &before.fund_id)
            .await?
            .station_id;
        let input = services::ServiceInput {
            kind: ServiceKind::ResourceLinking.as_str().to_owned(),
            domain: ServiceDomain::SocialAssistance.as_str().to_owned(),
            station_id: station,
            resident_id: Some(resident.clone()),
            title: before.purpose.chars().take(100).collect(),
            served_on: p.paid_on.clone(),
            duration_minutes: minutes,
            person_times: 1,
            value_fen: before.amount_fen,
            workers: p.workers.clone(),
            ..Default::default()
        };
        let sid = services::create(conn, viewer, keys, &input, by, now)
            .await
            .map_err(|e| match e {
                StoreError::Invalid(f) if f.field == "resident" => {
                    FieldError::new("recipient_resident_id", "charity.resident_unknown").into()
                }
                StoreError::Invalid(f) if f.field == "served_on" => {
                    FieldError::new("paid_on", f.code).into()
                }
                other => other,
            })?;
        Sql::new("UPDATE charity_disbursements SET service_id = ")
            .bind(sid)
            .push(" WHERE id = ")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(before)
}

// ---------------------------------------------------------------------------------------------
// Goods stock

#[derive(Debug, Clone)]
pub struct StockInput {
    pub fund_id: String,
    pub item: String,
    pub unit: String,
    pub kind: MoveKind,
    /// Received or issued; for a stock-take, the quantity counted.
    pub quantity: i64,
    /// Who signed for an issue (internal).
    pub signed_by: String,
    pub note: String,
    pub moved_on: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StockLine {
    pub item: String,
    pub unit: String,
    pub quantity: i64,
    pub moves: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StockMove {
    pub id: String,
    pub item: String,
    pub unit: String,
    #[sqlx(try_from = "String")]
    pub kind: MoveKind,
    pub delta: i64,
    pub counted: Option<i64>,
    pub donation_id: Option<String>,
    pub signed_by: String,
    pub note: String,
    pub moved_on: String,
    pub created_at: i64,
}

async fn insert_move(
    conn: &mut AnyConnection,
    fund: &Fund,
    input: &StockInput,
    (delta, counted): (i64, Option<i64>),
    donation: Option<&str>,
    (by, now): (&str, Millis),
) -> StoreResult<String> {
    let id = new_id();
    Sql::new("INSERT INTO charity_stock_moves (id, fund_id, region_code, item, unit, kind, delta, counted, donation_id, signed_by, note, moved_on, created_by, created_at) VALUES (")
        .bind(&id).push(", ").bind(fund.id.as_str()).push(", ").bind(fund.region_code.as_str()).push(", ")
        .bind(input.item.trim()).push(", ").bind(input.unit.trim()).push(", ").bind(input.kind.as_str()).push(", ")
        .bind(delta).push(", ").bind(counted).push(", ").bind(donation).push(", ").bind(input.signed_by.trim())
        .push(", ").bind(input.note.trim()).push(", ").bind(input.moved_on.as_str()).push(", ").bind(by)
        .push(", ").bind(now).push(")")
        .execute(conn)
        .await?;
    Ok(id)
}

async fn on_hand(conn: &mut AnyConnection, fund: &str, item: &str) -> StoreResult<i64> {
    Sql::new(
        "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM charity_stock_moves WHERE fund_id = ",
    )
    .bind(fund)
    .push(" AND item = ")
    .bind(item)
    .fetch_i64(conn)
    .await
}

/// Receive goods, issue them (never more than on hand; signed for) or record a stock-take (the
/// difference to the books becomes the move).
pub async fn move_stock(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &StockInput,
    by: &str,
    now: Millis,
) -> StoreResult<String> {
    let fund = fund_for(conn, scope, &input.fund_id).await?;
    check_text("goods_item", &input.item, 100, true)?;
    check_text("unit", &input.unit, 20, false)?;
    check_text("note", &input.note, 200, false)?;
    ch::check_quantity(input.kind, input.quantity)?;
    Sql::new("UPDATE charity_funds SET updated_at = updated_at WHERE id = ")
        .bind(fund.id.as_str())
        .execute(conn)
        .await?;
    let held = on_hand(conn, &fund.id, input.item.trim()).await?;
    let (delta, counted) = match input.kind {
        MoveKind::Receipt => (input.quantity, None),
        MoveKind::Issue => {
            check_text("signed_by", &input.signed_by, 100, true)?;
            if input.quantity > held {
                return refuse("quantity", "charity.over_stock");
            }
            (-input.quantity, None)
        }
        MoveKind::Count => (input.quantity - held, Some(input.quantity)),
    };
    insert_move(conn, &fund, input, (delta, counted), None, (by, now)).await
}

/// What a fund holds, item by item.
pub async fn stock(
    conn: &mut AnyConnection,
    scope: &Scope,
    fund_id: &str,
) -> StoreResult<Vec<StockLine>> {
    get_fund(conn, scope, fund_id).await?;
    Sql::new(
        "SELECT item, MAX(unit) AS unit, CAST(SUM(delta) AS BIGINT) AS quantity, COUNT(*) AS moves \
              FROM charity_stock_moves WHERE fund_id = ",
    )
    .bind(fund_id)
    .push(" GROUP BY item ORDER BY item LIMIT 2000")
    .fetch_all(conn)
    .await
}

/// A fund's stock moves, newest first.
pub async fn stock_moves(
    conn: &mut AnyConnection,
    scope: &Scope,
    fund_id: &str,
    page: PageRequest,
) -> StoreResult<Page<StockMove>> {
    get_fund(conn, scope, fund_id).await?;
    let mut count = Sql::new("SELECT COUNT(*) FROM charity_stock_moves WHERE fund_id = ");
    count.bind(fund_id);
    let mut q = Sql::new(
        "SELECT id, item, unit, kind, delta, counted, donation_id, signed_by, note, moved_on, created_at \
         FROM charity_stock_moves WHERE fund_id = ",
    );
    q.bind(fund_id).push(" ORDER BY created_at DESC, id");
    q.fetch_page(conn, &count, page).await
}

// ---------------------------------------------------------------------------------------------
// Disclosure (public, no login, no personal data)

/// A fund as published.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublicFund {
    pub id: String,
    pub region_code: String,
    pub region_path: Option<String>,
    pub name: String,
    pub host_name: String,
    pub host_uscc: String,
    pub purpose: String,
    pub residual_rule: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub income_fen: i64,
    pub goods_fen: i64,
    pub committed_fen: i64,
    pub paid_fen: i64,
    pub donations: i64,
}

const PUBLIC_FUND: &str = "SELECT f.id, f.region_code, g.path_names AS region_path, f.name, f.host_name, f.host_uscc, \
     f.purpose, f.residual_rule, f.starts_on, f.ends_on, \
     CAST(COALESCE((SELECT SUM(d.amount_fen) FROM charity_donations d WHERE d.fund_id = f.id AND d.kind = 'money'), 0) AS BIGINT) AS income_fen, \
     CAST(COALESCE((SELECT SUM(d.amount_fen) FROM charity_donations d WHERE d.fund_id = f.id AND d.kind = 'goods'), 0) AS BIGINT) AS goods_fen, \
     CAST(COALESCE((SELECT SUM(x.amount_fen) FROM charity_disbursements x WHERE x.fund_id = f.id AND x.state IN ('approved','paid')), 0) AS BIGINT) AS committed_fen, \
     CAST(COALESCE((SELECT SUM(x.amount_fen) FROM charity_disbursements x WHERE x.fund_id = f.id AND x.state = 'paid'), 0) AS BIGINT) AS paid_fen, \
     (SELECT COUNT(*) FROM charity_donations d WHERE d.fund_id = f.id) AS donations \
     FROM charity_funds f LEFT JOIN regions g ON g.code = f.region_code WHERE ";

/// The funds of a region and below (`None`: everywhere), by region and name.
pub async fn public_funds(
    conn: &mut AnyConnection,
    region: Option<&RegionCode>,
    page: PageRequest,
) -> StoreResult<Page<PublicFund>> {
    let scope = region.map_or_else(Scope::national, |r| Scope::region(r.clone()));
    let mut q = Sql::new(PUBLIC_FUND);
    q.region_range("f.region_code", &scope);
    q.push(" ORDER BY f.region_code, f.name, f.id");
    let mut count = Sql::new("SELECT COUNT(*) FROM charity_funds f WHERE ");
    count.region_range("f.region_code", &scope);
    q.fetch_page(conn, &count, page).await
}

pub async fn public_fund(conn: &mut AnyConnection, id: &str) -> StoreResult<PublicFund> {
    let mut q = Sql::new(PUBLIC_FUND);
    q.push("f.id = ").bind(id);
    q.fetch_optional(conn).await?.ok_or(StoreError::NotFound)
}

/// A published disbursement: decided (approved or paid), its purpose and amount, never the
/// recipient.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublicDisbursement {
    #[sqlx(try_from = "String")]
    pub target_kind: TargetKind,
    pub purpose: String,
    pub amount_fen: i64,
    #[sqlx(try_from = "String")]
    pub state: DisbursementState,
    pub resolution_ref: String,
    pub decided_on: Option<String>,
    pub paid_on: Option<String>,
}

/// A published wish: de-identified.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublicWish {
    pub title: String,
    pub category: String,
    pub value_fen: i64,
    #[sqlx(try_from = "String")]
    pub state: WishState,
    pub posted_on: String,
    pub fulfilled_on: Option<String>,
}

pub async fn public_disbursements(
    conn: &mut AnyConnection,
    fund_id: &str,
) -> StoreResult<Vec<PublicDisbursement>> {
    Sql::new("SELECT target_kind, purpose, amount_fen, state, resolution_ref, decided_on, paid_on FROM charity_disbursements \
              WHERE state IN ('approved','paid') AND fund_id = ")
        .bind(fund_id)
        .push(" ORDER BY decided_on DESC, id LIMIT 500")
        .fetch_all(conn)
        .await
}

pub async fn public_wishes(
    conn: &mut AnyConnection,
    fund_id: &str,
) -> StoreResult<Vec<PublicWish>> {
    Sql::new("SELECT title, category, value_fen, state, posted_on, fulfilled_on FROM charity_wishes WHERE fund_id = ")
        .bind(fund_id)
        .push(" ORDER BY posted_on DESC, id LIMIT 500")
        .fetch_all(conn)
        .await
}
