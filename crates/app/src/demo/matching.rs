//! Demo data of 供需对接: needs of residents of 芦淞区 (助浴, 心理疏导, 学业辅导, 法律援助, 陪诊,
//! 探访陪伴, 康复护理) and a community's need of a venue, each matched by the matcher from the
//! demo's volunteers and stations: some left as proposals, some confirmed, some executed into
//! service records and completed. Written through the store as a county worker would;
//! deterministic for a given day (the volunteers' availability decides who is free today).

use shegong_domain::matching::{HelpKind, MatchStep, NeedSource, NeedSubject};
use shegong_domain::{RegionCode, Scope};
use shegong_store::PageRequest;
use shegong_store::matching::matches::{self as mm, ExecuteInput, ProposeInput, StepInput};
use shegong_store::matching::needs::{self as nd, NeedInput};
use shegong_store::matching::resources;
use shegong_store::people::residents::{self, Viewer};
use shegong_web::AppState;

const BY: &str = "demo";
const COUNTY: &str = "430203";

const NEEDS: [(HelpKind, &str); 7] = [
    (HelpKind::Bathing, "行动不便，需要上门助浴"),
    (HelpKind::Psychological, "丧偶后情绪低落，需要心理疏导"),
    (HelpKind::Tutoring, "孩子课业跟不上，需要学业辅导"),
    (HelpKind::Legal, "赡养纠纷，需要法律咨询"),
    (HelpKind::Escort, "独居老人需要陪同就医"),
    (HelpKind::Companionship, "独居老人希望有人定期探访"),
    (HelpKind::Rehab, "术后需要康复护理指导"),
];

fn person(resident: &str, help: HelpKind, title: &str) -> NeedInput {
    NeedInput {
        subject: NeedSubject::Person,
        resident_id: Some(resident.to_owned()),
        household_id: None,
        region: None,
        station_id: None,
        help_kind: help,
        title: title.to_owned(),
        description: String::new(),
        quantity: 0,
        wanted_on: None,
        day_part: None,
        source: NeedSource::Other,
        source_id: None,
    }
}

/// Seed about fifteen needs and their matches in the county.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let county = Scope::region(RegionCode::parse(COUNTY)?);
    let viewer = Viewer {
        scope: county.clone(),
        user_id: BY.into(),
        sees_protected: true,
        today: shegong_web::ui::forms::today(now).parse()?,
    };
    let mut tx = state.db.begin().await?;
    let people = residents::list(
        &mut tx,
        &viewer,
        &residents::Filter::default(),
        PageRequest::new(None, Some(14)),
    )
    .await?
    .items;
    let mut inputs: Vec<NeedInput> = people
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            NEEDS
                .get(i % NEEDS.len())
                .map(|(help, title)| person(&r.id, *help, title))
        })
        .collect();
    let mut venue = person("", HelpKind::Venue, "重阳节敬老活动需要活动场地");
    venue.subject = NeedSubject::Community;
    venue.resident_id = None;
    venue.region = Some(RegionCode::parse("430203001")?);
    inputs.push(venue);
    for (i, input) in inputs.iter().enumerate() {
        let id = nd::create(&mut tx, &viewer, input, (BY, now)).await?;
        let need = nd::get(&mut tx, &county, &id).await?;
        let proposals = resources::propose(&mut tx, &viewer, &need).await?;
        // The best one or two proposed; then how far each went differs.
        let mut ids = Vec::new();
        for c in proposals.candidates.iter().take(1 + i % 2) {
            let p = ProposeInput {
                need_id: id.clone(),
                resource_kind: c.resource.kind,
                resource_id: c.resource.id.clone(),
                resource_item: c.resource.item.clone(),
            };
            ids.push(mm::propose(&mut tx, &viewer, &p, (BY, now)).await?);
        }
        let Some(first) = ids.first() else {
            continue;
        };
        let steps: &[MatchStep] = match i % 3 {
            0 => &[],
            1 => &[MatchStep::Confirm],
            _ => &[MatchStep::Confirm, MatchStep::Execute, MatchStep::Complete],
        };
        for step in steps {
            let s = StepInput {
                step: *step,
                reason: String::new(),
                execute: ExecuteInput {
                    served_on: viewer.today.to_string(),
                    duration_minutes: 90,
                    person_times: if input.subject == NeedSubject::Community {
                        30
                    } else {
                        1
                    },
                    workers: "贺家土街道社工站".into(),
                    notes: String::new(),
                    quantity: None,
                },
            };
            mm::step(&mut tx, &viewer, &state.keys, first, &s, (BY, now)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
