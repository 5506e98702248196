//! Demo data of hotlines and tickets: 贺家土街道社工站's emergency line with a week's roster, and a
//! month of tickets (calls, 12345 dispatches, alarm buttons, walk-ins, messages) left in every
//! state of the loop, one a crisis. Written through the store at the times they happened, as in
//! use; deterministic.

use shegong_domain::hotline::{Category, Channel, HotlineKind, Satisfaction, Sla, Step, Urgency};
use shegong_domain::{RegionCode, Scope};
use shegong_store::hotline::tickets::{self as tk, StepInput, TicketInput};
use shegong_store::hotline::{self as hl, DutyInput, HotlineInput};
use shegong_store::network::stations;
use shegong_store::people::residents;
use shegong_store::{Conn, PageRequest};
use shegong_web::AppState;

const BY: &str = "demo";
const TOWNSHIP: &str = "430203001";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

const CALLS: &[(Category, &str)] = &[
    (Category::Consult, "咨询高龄津贴申请材料"),
    (Category::Help, "独居老人家中停电，无法自行处理"),
    (Category::Complaint, "反映小区楼道堆放杂物影响通行"),
    (Category::Suggestion, "建议社区增设老年助餐点"),
    (Category::Help, "残疾人家属咨询托养服务并求助"),
    (Category::Emergency, "老人在家摔倒，家属不在身边"),
    (Category::Consult, "咨询临时救助申请流程"),
    (Category::Help, "留守儿童放学后无人照看"),
];

/// Seed the line and its tickets when 贺家土's station and a worker exist.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let scope = Scope::region(RegionCode::parse(TOWNSHIP)?);
    let mut tx = state.db.begin().await?;
    let all = PageRequest::default();
    let station = stations::list(&mut tx, &scope, &stations::Filter::default(), all)
        .await?
        .items
        .into_iter()
        .next();
    let worker = residents::workers(&mut tx, &scope)
        .await?
        .into_iter()
        .next()
        .map(|a| a.id);
    let (Some(station), Some(worker)) = (station, worker) else {
        return Ok(());
    };
    let line = HotlineInput {
        station_id: station.id.clone(),
        number: "0731-28812345".into(),
        name: "贺家土社工守护热线".into(),
        kind: HotlineKind::Emergency,
        active: true,
    };
    let line = hl::create(&mut tx, &scope, &line, BY, now - 40 * DAY).await?;
    for weekday in 1..=7 {
        let duty = DutyInput {
            user_id: worker.clone(),
            weekday: Some(weekday),
            on_date: None,
            starts: "08:00".into(),
            ends: "20:00".into(),
        };
        hl::add_duty(&mut tx, &scope, &line, &duty, BY, now - 40 * DAY).await?;
    }
    tickets(&mut tx, &scope, state, (&station.id, &line, &worker), now).await?;
    tx.commit().await?;
    Ok(())
}

async fn tickets(
    tx: &mut Conn,
    scope: &Scope,
    state: &AppState,
    (station, line, worker): (&str, &str, &str),
    now: i64,
) -> anyhow::Result<()> {
    let channels = [
        Channel::Phone,
        Channel::Dispatch12345,
        Channel::AlarmButton,
        Channel::WalkIn,
        Channel::Message,
    ];
    for n in 0..30_usize {
        let (category, content) = CALLS
            .get(n % CALLS.len())
            .copied()
            .unwrap_or((Category::Consult, "咨询"));
        let category = if n == 27 { Category::Crisis } else { category };
        let channel = channels
            .get(n % channels.len())
            .copied()
            .unwrap_or(Channel::Phone);
        let at = now - i64::try_from(30 - n).unwrap_or(0) * DAY + 2 * HOUR;
        let input = TicketInput {
            station_id: station.into(),
            hotline_id: matches!(channel, Channel::Phone | Channel::AlarmButton)
                .then(|| line.to_owned()),
            channel,
            received_at: None,
            caller_name: if n % 4 == 3 {
                String::new()
            } else {
                format!("来电人{}", n + 1)
            },
            caller_phone: Some(format!("1387331{:04}", 1000 + n)),
            caller_id_number: None,
            category,
            urgency: if matches!(category, Category::Emergency | Category::Crisis) {
                Urgency::Urgent
            } else {
                Urgency::Normal
            },
            content: if n == 27 {
                "来电者情绪低落，表示不想活了".into()
            } else {
                content.into()
            },
            assignee_user_id: None,
            external_no: (channel == Channel::Dispatch12345)
                .then(|| format!("ZZ12345-2026{:05}", n + 1)),
            external_state: if channel == Channel::Dispatch12345 {
                "已派单".into()
            } else {
                String::new()
            },
        };
        let sla: Sla = state.config.hotline.sla(category);
        let id = tk::create(tx, scope, &state.keys, &input, sla, BY, at).await?;
        // The older the ticket, the further along the loop (the newest are just received).
        let path = [
            Step::Assign,
            Step::Accept,
            Step::Start,
            Step::Reply,
            Step::Close,
            Step::FollowUp,
            Step::Archive,
        ];
        let steps = (30 - n) / 4;
        for (k, step) in path.iter().take(steps).enumerate() {
            let input = StepInput {
                note: if *step == Step::Reply {
                    "已电话回复并上门核实".into()
                } else {
                    String::new()
                },
                assignee_user_id: (*step == Step::Assign).then(|| worker.to_owned()),
                new_due_at: None,
                satisfaction: (*step == Step::FollowUp).then_some(Satisfaction::Satisfied),
            };
            let when = at + i64::try_from(k + 1).unwrap_or(1) * 6 * HOUR;
            tk::step(tx, scope, &id, *step, &input, BY, when).await?;
        }
    }
    Ok(())
}
