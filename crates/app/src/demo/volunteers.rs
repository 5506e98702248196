//! Demo data of volunteering and the time bank: at five 株洲 stations, a registered volunteer team
//! and a hosted group each, about fifty volunteers per station (a few minors with a guardian's
//! consent, a few suspended), and a season — the last three months — of weekly activities (the
//! risky ones insured) with sign-ups, attendance signed in and out, and the hour records taken
//! through notice to recorded, a few corrected or revoked with the reason and the latest still
//! pending or on notice; two certificates; and 贺家土街道's time bank, where volunteers earn
//! from their recorded hours, some redeem, and a resident household receives a grant and moves
//! credits within the family. Written through the store, as in use; deterministic.

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate};
use shegong_domain::people::Relation;
use shegong_domain::people::ServiceKind;
use shegong_domain::timebank::{
    AccountKind, CapOverflow, EntryKind, HolderKind, Rules, SourceKind, TransferTo,
};
use shegong_domain::volunteers::VolunteerStatus;
use shegong_domain::volunteers::activities::{HOURS_PUBLICITY_DAYS, HourStep, SignInMethod};
use shegong_domain::{RegionCode, Scope};
use shegong_store::network::stations::{self, Station};
use shegong_store::people::{households, residents};
use shegong_store::timebank as tb;
use shegong_store::volunteers::activities::{self as act, ActivityInput, Mark};
use shegong_store::volunteers::hours::{self, CertificateInput, StepInput};
use shegong_store::volunteers::registry::{self, VolunteerInput};
use shegong_store::volunteers::teams::{self, TeamInput};
use shegong_store::{Conn, PageRequest, admin::users};
use shegong_web::AppState;

use super::{Lcg, cycled};

/// Who seeded a row.
const BY: &str = "demo";
const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
/// China Standard Time from UTC.
const CST: i64 = 8 * HOUR;

/// The townships whose stations run volunteering (the first has the time bank).
const TOWNSHIPS: [&str; 5] = [
    "430203001",
    "430203002",
    "430204001",
    "430211001",
    "430211002",
];
const VOLUNTEERS_PER_STATION: u64 = 50;
/// Weeks of past activities per station.
const WEEKS: i64 = 13;

const SURNAMES: &[&str] = &[
    "李", "王", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "谭", "邓", "彭", "曾", "易", "文", "龙", "贺",
];
const GIVEN: &[&str] = &[
    "思雨", "志强", "海燕", "建华", "丽君", "晓东", "婷", "磊", "静怡", "国庆", "春燕", "文博",
    "红梅", "立新", "雅琴", "俊", "慧敏", "永辉", "小芳", "德军",
];
const GIVEN_YOUNG: &[&str] = &["子涵", "欣怡", "浩然", "梓萱", "雨桐", "一诺"];
const SKILLS: &[&str] = &[
    "养老照护",
    "心理疏导",
    "助学辅导",
    "应急救援",
    "医疗护理",
    "法律咨询",
    "文艺表演",
    "驾驶",
];
const INTENTIONS: &[&str] = &["助老", "助残", "助学", "应急", "环保", "社区治理"];
const AVAILABILITY: &[&str] = &["周末上午", "周末全天", "工作日晚上", "工作日下午"];

/// An activity's kind: name, recipients, content, requirements, risky, hours, local start hour.
type Template = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    i64,
    i64,
);

const TEMPLATES: &[Template] = &[
    (
        "探访独居老人",
        "辖区独居、空巢老人",
        "上门陪伴聊天、代购生活用品、检查用电用气安全",
        "有耐心，熟悉社区",
        false,
        3,
        9,
    ),
    (
        "长者助餐送餐",
        "高龄、失能老人",
        "社区食堂打包送餐上门，了解老人近况",
        "",
        false,
        2,
        10,
    ),
    (
        "“四点半课堂”助学辅导",
        "留守儿童、困境儿童",
        "作业辅导、绘本阅读陪伴",
        "有辅导经验者优先",
        false,
        2,
        16,
    ),
    (
        "防汛应急巡查",
        "沿江低洼片区居民",
        "巡查堤段与低洼住户，协助转移群众",
        "年满18周岁，身体健康",
        true,
        4,
        8,
    ),
    (
        "心理健康关爱小组",
        "困境家庭成员",
        "协助社工开展减压放松小组活动",
        "心理学背景优先",
        false,
        2,
        14,
    ),
    (
        "社区义诊与健康测量",
        "社区老年人",
        "血压血糖测量、健康宣教",
        "医护背景优先",
        false,
        3,
        8,
    ),
    (
        "消防安全入户宣传",
        "老旧小区住户",
        "入户排查消防隐患、发放宣传资料",
        "年满18周岁",
        true,
        3,
        9,
    ),
    (
        "环境整治志愿劳动",
        "社区居民",
        "清理楼道杂物、垃圾分类引导",
        "",
        false,
        2,
        8,
    ),
];

/// The demo's clock and the scope it writes in.
struct Ctx {
    now: i64,
    today: NaiveDate,
    all: Scope,
}

/// One volunteer as the demo goes on using them.
#[derive(Clone)]
struct Vol {
    id: String,
    minor: bool,
    active: bool,
}

/// A station with its volunteers and teams.
struct Site {
    station: Station,
    scope: Scope,
    volunteers: Vec<Vol>,
    team: String,
}

/// An hour record left recorded (what the time bank earns from).
struct Recorded {
    volunteer: String,
    hours_id: String,
    minutes: i64,
    site: usize,
}

/// Seed volunteering and the time bank. Run after the stations and the people served exist.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let today = NaiveDate::parse_from_str(&shegong_web::ui::forms::today(now), "%Y-%m-%d")?;
    let cx = Ctx {
        now,
        today,
        all: Scope::national(),
    };
    let mut rng = Lcg(20_261_204);
    let mut tx = state.db.begin().await?;
    let mut sites = Vec::new();
    let mut k = 0u64;
    for township in TOWNSHIPS {
        if let Some(site) = seed_site(&mut tx, &cx, state, &mut rng, township, &mut k).await? {
            sites.push(site);
        }
    }
    let mut recorded = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        seed_season(&mut tx, &cx, &mut rng, (i, site), &mut recorded).await?;
        seed_upcoming(&mut tx, &cx, &mut rng, site, i == 0).await?;
    }
    if let Some(home) = sites.first() {
        seed_certificates(&mut tx, &cx, home, &recorded).await?;
        seed_timebank(&mut tx, &cx, home, &recorded).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Millis of `hour` o'clock China time on `day`.
fn at(day: NaiveDate, hour: i64) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
        - CST
        + hour * HOUR
}

fn id_number(county: &str, birth: NaiveDate, seq: u64) -> anyhow::Result<String> {
    let body = format!("{county}{}{seq:03}", birth.format("%Y%m%d"));
    let check = shegong_domain::people::identity::check_character(&body)
        .with_context(|| format!("demo identity number {body}"))?;
    Ok(format!("{body}{check}"))
}

/// The township's station, its two teams and its volunteers (none when it has no station).
async fn seed_site(
    tx: &mut Conn,
    cx: &Ctx,
    state: &AppState,
    rng: &mut Lcg,
    township: &str,
    k: &mut u64,
) -> anyhow::Result<Option<Site>> {
    let region = RegionCode::parse(township)?;
    let scope = Scope::region(region.clone());
    let Some(station) = stations::list(
        tx,
        &scope,
        &stations::Filter::default(),
        PageRequest::default(),
    )
    .await?
    .items
    .into_iter()
    .next() else {
        return Ok(None);
    };
    let town = station.name.trim_end_matches("社会工作服务站").to_owned();
    let registered = TeamInput {
        region: region.clone(),
        name: format!("{town}志愿服务队"),
        registered: true,
        registration_no: Some(format!(
            "ZZZYD{}{:03}",
            township.get(..6).unwrap_or_default(),
            *k / 10 + 1
        )),
        station_id: Some(station.id.clone()),
    };
    let team = teams::create(tx, &scope, &registered, BY, cx.now).await?;
    let hosted = TeamInput {
        region,
        name: format!("{town}邻里互助小组"),
        registered: false,
        registration_no: None,
        station_id: Some(station.id.clone()),
    };
    let group = teams::create(tx, &scope, &hosted, BY, cx.now).await?;
    let mut volunteers = Vec::new();
    for _ in 0..VOLUNTEERS_PER_STATION {
        *k += 1;
        let (v, joined) = seed_volunteer(tx, cx, state, rng, (&station, &scope), *k).await?;
        if v.active && !v.minor {
            let t = if k.is_multiple_of(3) { &group } else { &team };
            teams::add_member(tx, &scope, t, &v.id, &joined).await?;
        }
        volunteers.push(v);
    }
    Ok(Some(Site {
        station,
        scope,
        volunteers,
        team,
    }))
}

/// The `k`th volunteer, registered at the station; returns them and their registration day.
async fn seed_volunteer(
    tx: &mut Conn,
    cx: &Ctx,
    state: &AppState,
    rng: &mut Lcg,
    (station, scope): (&Station, &Scope),
    k: u64,
) -> anyhow::Result<(Vol, String)> {
    let minor = k % 25 == 7;
    let age = if minor {
        12 + rng.next(5) as i32
    } else {
        19 + rng.next(50) as i32
    };
    let birth = NaiveDate::from_ymd_opt(
        cx.today.year() - age,
        1 + rng.next(12) as u32,
        1 + rng.next(28) as u32,
    )
    .context("demo birth date")?;
    let female = rng.next(10) < 6;
    let registered = cx.today - Duration::days(120 + rng.next(600) as i64);
    let county = station.region_code.get(..6).unwrap_or_default();
    let seq = 2 * k + if female { 2 } else { 1 };
    let skills: Vec<String> = (0..1 + rng.next(2))
        .map(|i| cycled(SKILLS, (k + i * 3) as usize).to_owned())
        .collect();
    let given = if minor { GIVEN_YOUNG } else { GIVEN };
    let active = k % 60 != 59;
    let input = VolunteerInput {
        region: Some(RegionCode::parse(&station.region_code)?),
        station_id: Some(station.id.clone()),
        name: format!("{}{}", rng.pick(SURNAMES), rng.pick(given)),
        id_type: Some("resident_id".into()),
        id_number: Some(id_number(county, birth, seq)?),
        sex: Some(if female { "female" } else { "male" }.into()),
        birth_date: birth.to_string(),
        mobile: Some(format!(
            "1{}{:09}",
            rng.pick(&[3, 5, 7, 8, 9]),
            (k * 7_654_321 + 12_345_678) % 1_000_000_000
        )),
        skills,
        intentions: vec![rng.pick(INTENTIONS).to_owned()],
        availability: rng.pick(AVAILABILITY).into(),
        guardian_name: if minor {
            format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
        } else {
            String::new()
        },
        guardian_consent_on: minor.then(|| registered.to_string()),
        accompanied: false,
        status: if active {
            VolunteerStatus::Active
        } else {
            VolunteerStatus::Suspended
        },
        registered_on: registered.to_string(),
    };
    let id = registry::create(
        tx,
        scope,
        &state.keys,
        &input,
        cx.today,
        BY,
        at(registered, 10),
    )
    .await?;
    Ok((Vol { id, minor, active }, registered.to_string()))
}

/// The kind of the `n`th activity of a station.
fn template(n: usize) -> Template {
    TEMPLATES.get(n % TEMPLATES.len()).copied().unwrap_or((
        "社区志愿服务",
        "社区居民",
        "志愿服务",
        "",
        false,
        2,
        9,
    ))
}

/// The activity of kind `t` at the site on `day`, created and published ten days ahead (or
/// now); returns its id, when it was published and when it ends.
async fn publish(
    tx: &mut Conn,
    cx: &Ctx,
    site: &Site,
    t: Template,
    day: NaiveDate,
    n: usize,
) -> anyhow::Result<(String, i64, i64)> {
    let (name, recipients, content, requirements, risky, hours, hour) = t;
    let (starts_at, ends_at) = (at(day, hour), at(day, hour + hours));
    let input = ActivityInput {
        station_id: site.station.id.clone(),
        team_id: n.is_multiple_of(2).then(|| site.team.clone()),
        name: name.into(),
        starts_at,
        ends_at,
        address: site.station.address.clone(),
        recipients: recipients.into(),
        content: content.into(),
        requirements: requirements.into(),
        quota: 8 + (n % 5) as i64,
        risky,
        insurance_ref: None,
    };
    let created = (starts_at - 10 * 24 * HOUR).min(cx.now);
    let id = act::create(tx, &site.scope, &input, BY, created).await?;
    let insurance = risky.then(|| format!("PICC-ZZ-{}-{:04}", day.year(), 100 + n));
    act::step(tx, &site.scope, &id, "open", insurance.as_deref(), created).await?;
    Ok((id, created, ends_at))
}

/// Sign up to `count` volunteers of the site, taken round from `from` (minors not for risky
/// work); returns who signed up.
async fn sign_ups(
    tx: &mut Conn,
    site: &Site,
    activity: (&str, i64, bool),
    from: usize,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let (id, created, risky) = activity;
    let eligible: Vec<&Vol> = site
        .volunteers
        .iter()
        .filter(|v| v.active && !(risky && v.minor))
        .collect();
    let mut out = Vec::new();
    for j in 0..count.min(eligible.len()) {
        let Some(v) = eligible.get((from + j) % eligible.len()) else {
            continue;
        };
        let when = (BY, created + HOUR + j as i64 * 17 * MINUTE);
        act::sign_up(tx, &site.scope, id, &v.id, v.minor, when).await?;
        out.push(v.id.clone());
    }
    Ok(out)
}

/// A past week's activity at the site: published, signed up to, attended (most come, a few
/// withdraw or stay away) and closed. Returns the pending hour records written.
async fn seed_past_activity(
    tx: &mut Conn,
    cx: &Ctx,
    rng: &mut Lcg,
    site: &Site,
    day: NaiveDate,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let t = template(n);
    let (id, created, ends_at) = publish(tx, cx, site, t, day, n).await?;
    let starts_at = ends_at - t.5 * HOUR;
    let quota = 8 + n % 5;
    let from = n * 7 + rng.next(10) as usize;
    let who = sign_ups(
        tx,
        site,
        (&id, created, t.4),
        from,
        quota - rng.next(3) as usize,
    )
    .await?;
    let mut written = Vec::new();
    for (j, v) in who.iter().enumerate() {
        if j == 2 && n % 4 == 1 {
            act::withdraw(tx, &site.scope, &id, v).await?;
            continue;
        }
        if rng.next(10) == 0 {
            continue; // signed up, did not come
        }
        let method = if j % 3 == 0 {
            SignInMethod::Organiser
        } else {
            SignInMethod::Qr
        };
        let mut m = Mark {
            activity_id: &id,
            volunteer_id: v,
            at: starts_at - rng.next(30) as i64 * MINUTE,
            method,
        };
        let by_now = (BY, ends_at + HOUR);
        act::sign_in(tx, &site.scope, &m, by_now).await?;
        m.at = ends_at - 40 * MINUTE + rng.next(60) as i64 * MINUTE;
        if let Some(h) = act::sign_out(tx, &site.scope, &m, by_now).await?.hours_id {
            written.push(h);
        }
    }
    act::step(tx, &site.scope, &id, "close", None, ends_at + 2 * HOUR).await?;
    Ok(written)
}

/// The last three months of the site's weekly activities and their hours.
async fn seed_season(
    tx: &mut Conn,
    cx: &Ctx,
    rng: &mut Lcg,
    (i, site): (usize, &Site),
    recorded: &mut Vec<Recorded>,
) -> anyhow::Result<()> {
    let first = cx.today - Duration::days(7 * WEEKS);
    for w in 0..WEEKS {
        let day = first + Duration::days(7 * w + (i as i64 * 2) % 7);
        if day + Duration::days(1) >= cx.today {
            break;
        }
        let n = i * 3 + w as usize;
        for (j, h) in seed_past_activity(tx, cx, rng, site, day, n)
            .await?
            .into_iter()
            .enumerate()
        {
            let k = n * 16 + j;
            if let Some((id, minutes)) = settle(tx, cx, site, (&h, day), k).await? {
                let volunteer = hours::get(tx, &site.scope, &id).await?.volunteer_id;
                recorded.push(Recorded {
                    volunteer,
                    hours_id: id,
                    minutes,
                    site: i,
                });
            }
        }
    }
    Ok(())
}

/// One step of an hour record on `day` (the decision time noon that day, never after now).
async fn step(
    tx: &mut Conn,
    cx: &Ctx,
    site: &Site,
    id: &str,
    (s, reason, minutes): (HourStep, &str, Option<i64>),
    day: NaiveDate,
) -> anyhow::Result<hours::Stepped> {
    let input = StepInput {
        step: s,
        publicity_days: HOURS_PUBLICITY_DAYS,
        reason: reason.into(),
        minutes,
    };
    let when = at(day, 12).min(cx.now);
    Ok(hours::step(tx, &site.scope, id, &input, (BY, when), day).await?)
}

/// Take a pending hour record of `served` as far as its age allows: older ones confirmed the
/// next day and recorded after the notice (one in 37 corrected after, one in 53 revoked as a
/// duplicate), last week's on notice, the latest pending. Returns the record left recorded, if
/// any, with its minutes.
async fn settle(
    tx: &mut Conn,
    cx: &Ctx,
    site: &Site,
    (id, served): (&str, NaiveDate),
    k: usize,
) -> anyhow::Result<Option<(String, i64)>> {
    let age = (cx.today - served).num_days();
    let (confirm, record) = (served + Duration::days(1), served + Duration::days(5));
    if age < 4 {
        return Ok(None);
    }
    if k % 53 == 11 {
        let why = "重复签到，经核实撤销";
        step(tx, cx, site, id, (HourStep::Revoke, why, None), confirm).await?;
        return Ok(None);
    }
    step(tx, cx, site, id, (HourStep::Confirm, "", None), confirm).await?;
    if age < 8 {
        return Ok(None);
    }
    step(tx, cx, site, id, (HourStep::Record, "", None), record).await?;
    let minutes = hours::get(tx, &site.scope, id).await?.minutes;
    if k % 37 != 5 {
        return Ok(Some((id.to_owned(), minutes)));
    }
    let why = "签退时间漏记半小时，按纸质签到表更正";
    let fixed = (minutes + 30).min(16 * 60);
    let on = served + Duration::days(6);
    let c = step(tx, cx, site, id, (HourStep::Correct, why, Some(fixed)), on).await?;
    let Some(new) = c.replacement else {
        return Ok(None);
    };
    step(tx, cx, site, &new, (HourStep::Confirm, "", None), on).await?;
    let done = on + Duration::days(4);
    if done > cx.today {
        return Ok(None);
    }
    step(tx, cx, site, &new, (HourStep::Record, "", None), done).await?;
    Ok(Some((new, fixed)))
}

/// Two activities of the coming fortnight, open with sign-ups; at the first site also a draft
/// and a cancelled one.
async fn seed_upcoming(
    tx: &mut Conn,
    cx: &Ctx,
    rng: &mut Lcg,
    site: &Site,
    first: bool,
) -> anyhow::Result<()> {
    for (j, ahead) in [3, 10].into_iter().enumerate() {
        let n = 40 + j + rng.next(8) as usize;
        let t = template(n);
        let day = cx.today + Duration::days(ahead);
        let (id, created, _) = publish(tx, cx, site, t, day, n).await?;
        sign_ups(tx, site, (&id, created, t.4), n, 3 + rng.next(4) as usize).await?;
    }
    if !first {
        return Ok(());
    }
    let day = cx.today + Duration::days(17);
    let (name, recipients, content, requirements, risky, hours, hour) = template(2);
    let input = ActivityInput {
        station_id: site.station.id.clone(),
        team_id: None,
        name: format!("{name}（寒假班）"),
        starts_at: at(day, hour),
        ends_at: at(day, hour + hours),
        address: site.station.address.clone(),
        recipients: recipients.into(),
        content: content.into(),
        requirements: requirements.into(),
        quota: 10,
        risky,
        insurance_ref: None,
    };
    act::create(tx, &site.scope, &input, BY, cx.now).await?;
    let (id, _, _) = publish(tx, cx, site, template(7), day, 7).await?;
    act::step(tx, &site.scope, &id, "cancel", None, cx.now).await?;
    Ok(())
}

/// Certificates for the two volunteers with the most hours the first site recorded.
async fn seed_certificates(
    tx: &mut Conn,
    cx: &Ctx,
    site: &Site,
    recorded: &[Recorded],
) -> anyhow::Result<()> {
    let mut totals: Vec<(i64, &str)> = Vec::new();
    for r in recorded.iter().filter(|r| r.site == 0) {
        match totals.iter_mut().find(|(_, v)| *v == r.volunteer) {
            Some(t) => t.0 += r.minutes,
            None => totals.push((r.minutes, &r.volunteer)),
        }
    }
    totals.sort_by(|a, b| b.cmp(a));
    for (_, v) in totals.into_iter().take(2) {
        let input = CertificateInput {
            volunteer_id: v.to_owned(),
            station_id: site.station.id.clone(),
            person_in_charge: "周建平".into(),
            handler: "李思琪".into(),
            contact: site.station.phone.clone(),
            period: None,
        };
        hours::issue(tx, &site.scope, &input, (BY, cx.now), cx.today).await?;
    }
    Ok(())
}

/// The time bank of the first site's township: an hour of service one credit, at most eight a
/// day and 600 held, transfers within the family.
fn rules() -> Rules {
    Rules {
        unit_minutes: 60,
        daily_earn_cap: Some(8),
        balance_cap: Some(600),
        cap_overflow: CapOverflow::Refuse,
        redeem_min_earned: 0,
        transfer_to: TransferTo::Family,
        min_balance: 0,
        eligible_kinds: vec![
            ServiceKind::Visit,
            ServiceKind::Group,
            ServiceKind::Community,
        ],
        partners: vec![],
    }
}

fn entry(kind: EntryKind, amount: i64, note: &str) -> tb::EntryInput {
    tb::EntryInput {
        kind,
        amount,
        to_account_id: None,
        source_kind: SourceKind::Service,
        source_id: None,
        note: note.into(),
    }
}

/// The scheme; accounts for thirty volunteers of the first site, earning from their recorded
/// hours (three redeem); and a resident household's grant, family transfer and redemption.
async fn seed_timebank(
    tx: &mut Conn,
    cx: &Ctx,
    site: &Site,
    recorded: &[Recorded],
) -> anyhow::Result<()> {
    let region = RegionCode::parse(&site.station.region_code)?;
    let town = site
        .station
        .name
        .trim_end_matches("社会工作服务站")
        .to_owned();
    let input = tb::SchemeInput {
        region,
        name: format!("{town}时间银行"),
        operator: site.station.name.clone(),
        rules: rules(),
    };
    let s = &site.scope;
    let scheme = tb::create_scheme(tx, s, &input, BY, cx.now).await?;
    let mut accounts: Vec<(String, String)> = Vec::new();
    for r in recorded.iter().filter(|r| r.site == 0) {
        let account = match accounts.iter().find(|(v, _)| *v == r.volunteer) {
            Some((_, a)) => a.clone(),
            None if accounts.len() < 30 => {
                let a = tb::AccountInput {
                    kind: AccountKind::Person,
                    holder_kind: HolderKind::Volunteer,
                    holder_id: Some(r.volunteer.clone()),
                    holder_name: String::new(),
                };
                let id = tb::open_account(tx, s, &scheme, &a, BY, cx.now).await?;
                accounts.push((r.volunteer.clone(), id.clone()));
                id
            }
            None => continue,
        };
        let earn = tb::EntryInput {
            source_kind: SourceKind::VolunteerHours,
            source_id: Some(r.hours_id.clone()),
            ..entry(EntryKind::Earn, 0, "志愿服务时长入账")
        };
        tb::post(tx, s, &account, &earn, BY, cx.now).await?;
    }
    let mut redeemed = 0;
    for (_, a) in &accounts {
        if redeemed < 3 && tb::get_account(tx, s, a).await?.balance >= 6 {
            let r = entry(EntryKind::Redeem, 2, "兑换：社区食堂助餐券");
            tb::post(tx, s, a, &r, BY, cx.now).await?;
            redeemed += 1;
        }
    }
    seed_household(tx, cx, site, &scheme).await
}

/// Two residents of the township in one household: the elder receives a grant and passes some
/// to the family member, who redeems part; a third resident receives a grant too.
async fn seed_household(tx: &mut Conn, cx: &Ctx, site: &Site, scheme: &str) -> anyhow::Result<()> {
    let worker = users::get_by_username(tx, &cx.all, "hjt_worker").await?;
    let viewer = residents::Viewer {
        scope: site.scope.clone(),
        user_id: worker.id,
        sees_protected: true,
        today: cx.today,
    };
    let filter = residents::Filter {
        region: Some(RegionCode::parse(&site.station.region_code)?),
        ..Default::default()
    };
    let people = residents::list(tx, &viewer, &filter, PageRequest::default())
        .await?
        .items;
    let (Some(elder), Some(kin), Some(other)) = (people.first(), people.get(1), people.get(2))
    else {
        return Ok(());
    };
    households::join_household(tx, &viewer, &kin.id, &elder.id, Relation::Son, cx.now).await?;
    let s = &site.scope;
    let mut ids = Vec::new();
    for r in [elder, kin, other] {
        let a = tb::AccountInput {
            kind: AccountKind::Person,
            holder_kind: HolderKind::Resident,
            holder_id: Some(r.id.clone()),
            holder_name: String::new(),
        };
        ids.push(tb::open_account(tx, s, scheme, &a, BY, cx.now).await?);
    }
    let (Some(a), Some(b), Some(c)) = (ids.first(), ids.get(1), ids.get(2)) else {
        return Ok(());
    };
    let grant = entry(EntryKind::Grant, 12, "街道为困难老人赠送时间币");
    tb::post(tx, s, a, &grant, BY, cx.now).await?;
    let transfer = tb::EntryInput {
        to_account_id: Some(b.clone()),
        ..entry(EntryKind::Transfer, 4, "家庭成员间转赠")
    };
    tb::post(tx, s, a, &transfer, BY, cx.now).await?;
    let redeem = entry(EntryKind::Redeem, 2, "兑换：上门助浴服务");
    tb::post(tx, s, b, &redeem, BY, cx.now).await?;
    let grant = entry(EntryKind::Grant, 6, "重阳节敬老活动赠送");
    tb::post(tx, s, c, &grant, BY, cx.now).await?;
    Ok(())
}
