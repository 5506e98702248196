//! Demo data of the 急难愁盼 ledger: six weeks of issues raised in 芦淞区's townships and
//! 贺家土's communities — red, yellow and blue, from visits, resident meetings, hotline tickets
//! and surveys — in every state of the flow: just registered, verified, assigned to the
//! community, a department or the station, being handled, answered (some late), rated (one
//! unsatisfied and handled again), archived, and one dismissed. Written through the store at the
//! times they happened, under the built-in due-time policy; deterministic.

use shegong_domain::community::{
    Category, Colour, DuePolicy, Rating, Responsibility, Source, Step, Subject,
};
use shegong_domain::{RegionCode, Scope};
use shegong_store::community::{self as cm, IssueInput, StepInput};
use shegong_store::network::regions;
use shegong_store::people::residents::Viewer;
use shegong_web::AppState;

const BY: &str = "demo";
const COUNTY: &str = "430203";
const HOUR: i64 = 3_600_000;

/// (title, category, colour, source)
const MATTERS: [(&str, Category, Colour, Source); 12] = [
    (
        "三单元楼道灯不亮",
        Category::Utilities,
        Colour::Red,
        Source::ResidentMeeting,
    ),
    (
        "小区二次供水水压不足",
        Category::Utilities,
        Colour::Red,
        Source::Ticket,
    ),
    (
        "老旧小区加装电梯意见征集",
        Category::Housing,
        Colour::Yellow,
        Source::ResidentMeeting,
    ),
    (
        "独居老人助餐需求",
        Category::Elderly,
        Colour::Yellow,
        Source::Visit,
    ),
    (
        "临时救助政策咨询",
        Category::Policy,
        Colour::Blue,
        Source::Ticket,
    ),
    (
        "楼上漏水引发邻里纠纷",
        Category::Dispute,
        Colour::Yellow,
        Source::Visit,
    ),
    (
        "消防通道被占用",
        Category::Safety,
        Colour::Red,
        Source::Survey,
    ),
    (
        "垃圾分类投放点异味",
        Category::Environment,
        Colour::Blue,
        Source::Survey,
    ),
    (
        "留守儿童暑期看护",
        Category::Children,
        Colour::Yellow,
        Source::Assessment,
    ),
    (
        "残疾人证办理咨询",
        Category::Disability,
        Colour::Blue,
        Source::Ticket,
    ),
    (
        "困难家庭房屋漏雨",
        Category::Housing,
        Colour::Red,
        Source::Visit,
    ),
    (
        "高龄津贴申领咨询",
        Category::Policy,
        Colour::Blue,
        Source::ResidentMeeting,
    ),
];

/// How far each issue has gone: the steps taken, in order.
fn flow(i: usize) -> Vec<Step> {
    use Step::*;
    let full = [
        Verify,
        Assign,
        Handle,
        Answer,
        Rate(Rating::Satisfied),
        Archive,
    ];
    match i % 8 {
        6 if i == 6 => vec![Dismiss],
        6 => vec![
            Verify,
            Assign,
            Handle,
            Answer,
            Rate(Rating::Unsatisfied),
            Answer,
        ],
        // None to five steps along the full flow, or all of it.
        n => full.iter().take(n).copied().collect(),
    }
}

/// Seed about forty issues across the county's townships (and 贺家土's communities).
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let county = Scope::region(RegionCode::parse(COUNTY)?);
    let mut tx = state.db.begin().await?;
    let mut places: Vec<String> = regions::children(&mut tx, &county, Some(COUNTY))
        .await?
        .into_iter()
        .filter(|r| r.level == "township")
        .map(|r| r.code)
        .take(4)
        .collect();
    places.extend(
        regions::children(&mut tx, &county, Some("430203001"))
            .await?
            .into_iter()
            .map(|r| r.code)
            .take(4),
    );
    if places.is_empty() {
        return Ok(());
    }
    let viewer = Viewer {
        scope: county.clone(),
        user_id: BY.into(),
        sees_protected: true,
        today: shegong_web::ui::forms::today(now).parse()?,
    };
    let policy = |_: &str| DuePolicy::default();
    for i in 0..40usize {
        let (Some((title, category, colour, source)), Some(region)) = (
            MATTERS.get(i % MATTERS.len()).copied(),
            places.get(i % places.len()),
        ) else {
            continue;
        };
        // Spread over six weeks, the newest today.
        let raised = now - (i as i64) * 25 * HOUR;
        let input = IssueInput {
            subject: Subject::Community,
            resident_id: None,
            household_id: None,
            region: Some(RegionCode::parse(region)?),
            station_id: None,
            source,
            source_ref: String::new(),
            category,
            title: title.into(),
            description: String::new(),
            colour,
        };
        let id = cm::create(&mut tx, &viewer, &input, &policy, (BY, raised)).await?;
        let mut at = raised;
        for (n, step) in flow(i).into_iter().enumerate() {
            // Every third answer comes after a late day; the rest within hours.
            at += if n == 3 && i % 3 == 0 {
                30 * HOUR
            } else {
                2 * HOUR
            };
            let s = StepInput {
                step,
                responsibility: Some(match i % 3 {
                    0 => Responsibility::Community,
                    1 => Responsibility::Department,
                    _ => Responsibility::Station,
                }),
                handler: match i % 3 {
                    0 => "社区居委会",
                    1 => "区住建局",
                    _ => "贺家土街道社工站",
                }
                .into(),
                note: match step {
                    Step::Dismiss => "经核实不属于社区事务，已告知来电人向物业公司反映".into(),
                    Step::Answer => "已协调处理并当面反馈".into(),
                    Step::Rate(Rating::Unsatisfied) => "居民认为仍未解决".into(),
                    _ => String::new(),
                },
            };
            cm::step(&mut tx, &county, &id, &s, (BY, at.min(now))).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
