//! What the public portal reads of the purchase of services (issue 14 item 7): for one region
//! subtree and no user scope, only published catalogue editions (their included and purchasing
//! items, removed ones apart with the reason), the procurement notices of the region's purchase
//! projects, the region's contract notices and published evaluations — never a draft edition or
//! its items, an evaluation that is final but not published, or another region's records; lists
//! are paged.

#[allow(unused_imports)]
use super::*;

use shegong_domain::FieldError;
use shegong_domain::money::Fen;
use shegong_domain::network::station::Status;
use shegong_domain::purchase::catalogue::{
    CostShare, CostShares, ItemStatus, PurchaserLevel, RemovalReason, ServiceField,
};
use shegong_domain::purchase::contract::{ContractState, ProcurementMethod, Term};
use shegong_domain::purchase::evaluation::{EvaluationKind, EvaluationState, Grade, Points};
use shegong_domain::purchase::project::{Notice, NoticeKind, Project, ProjectState};
use shegong_store::purchase::catalogue::{self, ItemInput, ItemStep};
use shegong_store::purchase::contracts::{self, ContractInput};
use shegong_store::purchase::projects::{self, ProjectInput};
use shegong_store::purchase::public::{self, Counts};
use shegong_store::{PageRequest, StoreError};

use super::evaluations::{TO_FEEDBACK, contract_input, d, enter, full_sheet, plan, run_to, step};
use super::stations::{agency, input, station};

const NOW: i64 = 1_780_000_000_000;
const COUNTY: &str = "430202";
const OTHER_CITY_COUNTY: &str = "430102";

/// An item of `region`'s edition of `year`, moved along `steps`; its id.
async fn item(db: &Db, region: &str, year: i64, name: &str, steps: &[ItemStep]) -> String {
    let mut tx = db.begin().await.unwrap();
    let all = Scope::national();
    let (id, _) = catalogue::create_item(
        &mut tx,
        &all,
        &ItemInput {
            region: code(region),
            year,
            edition_title: format!("{region} {year} 项目目录"),
            field: ServiceField::Elderly,
            name: name.into(),
            description: format!("{name}说明"),
            cost_shares: CostShares::new(vec![CostShare {
                level: PurchaserLevel::District,
                share_bp: 10_000,
            }])
            .unwrap(),
        },
        "clerk_wang",
        NOW,
    )
    .await
    .unwrap();
    for s in steps {
        catalogue::move_item(&mut tx, &all, &id, s, "clerk_wang", NOW)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    id
}

fn to(status: ItemStatus) -> ItemStep {
    ItemStep {
        to: status,
        reason: None,
        note: String::new(),
    }
}

fn included() -> Vec<ItemStep> {
    vec![to(ItemStatus::Reviewed), to(ItemStatus::Included)]
}

async fn edition_of(db: &Db, item: &str) -> String {
    let mut c = db.read().await.unwrap();
    catalogue::get_item(&mut c, &Scope::national(), item)
        .await
        .unwrap()
        .edition_id
}

async fn publish(db: &Db, scope: &Scope, edition: &str) -> Result<(String, String), StoreError> {
    let mut tx = db.begin().await.unwrap();
    let r = catalogue::publish_edition(&mut tx, scope, edition, NOW).await;
    if r.is_ok() {
        tx.commit().await.unwrap();
    }
    r
}

async fn new_contract(db: &Db, input: ContractInput) -> String {
    let mut tx = db.begin().await.unwrap();
    let id = contracts::create(&mut tx, &Scope::national(), &input, "clerk_wang", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// An evaluation of `contract` scored at `level` throughout and taken to its final score.
async fn graded(db: &Db, contract: &str, kind: EvaluationKind, level: &str) -> String {
    let county = scope(COUNTY);
    let id = plan(db, contract, kind, None).await.unwrap();
    let entries = full_sheet(db, &id, level, "100", "pass").await;
    enter(db, &county, &id, entries).await.unwrap();
    run_to(db, &county, &id, TO_FEEDBACK).await;
    step(db, &county, &id, EvaluationState::Final)
        .await
        .unwrap();
    id
}

fn page(n: i64, per: i64) -> PageRequest {
    PageRequest::new(Some(n), Some(per))
}

db_test!(
    only_published_editions_notices_and_published_grades_of_the_subtree_are_public,
    |db| {
        // The catalogue: the county's 2025 edition (published) and 2026 edition (a draft), and
        // a published edition of a county in another city.
        let kept = item(&db, COUNTY, 2025, "居家养老探访", &included()).await;
        let mut buying = included();
        buying.push(to(ItemStatus::Purchasing));
        item(&db, COUNTY, 2025, "社工站运营", &buying).await;
        item(&db, COUNTY, 2025, "尚在征集的项目", &[]).await;
        let mut gone = included();
        gone.push(ItemStep {
            to: ItemStatus::Removed,
            reason: Some(RemovalReason::UnpurchasedTwoYears),
            note: "两年未购买".into(),
        });
        item(&db, COUNTY, 2025, "禁毒社工服务", &gone).await;
        let draft_item = item(&db, COUNTY, 2026, "草稿目录的项目", &included()).await;
        let far = item(&db, OTHER_CITY_COUNTY, 2025, "长沙的项目", &included()).await;
        let edition = edition_of(&db, &kept).await;
        let draft = edition_of(&db, &draft_item).await;
        // Nothing is public before publication.
        let mut c = db.read().await.unwrap();
        let city = Some(code("4302"));
        let p = public::catalogue(&mut c, city.as_ref(), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 0);
        drop(c);
        // Only the county's own account publishes; once.
        let e = publish(&db, &scope("430203"), &edition).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{e:?}");
        let agency_scope = Scope {
            region: None,
            org: Some(agency(&db, "阳光社工", COUNTY).await.parse().unwrap()),
        };
        assert!(publish(&db, &agency_scope, &edition).await.is_err());
        assert_eq!(
            publish(&db, &scope(COUNTY), &edition).await.unwrap(),
            (COUNTY.to_owned(), format!("{COUNTY} 2025 项目目录"))
        );
        match publish(&db, &scope(COUNTY), &edition).await {
            Err(StoreError::Invalid(FieldError { field, code })) => {
                assert_eq!(
                    (field, code),
                    ("status", "purchase.edition_already_published")
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let far_edition = edition_of(&db, &far).await;
        publish(&db, &Scope::national(), &far_edition)
            .await
            .unwrap();

        let mut c = db.read().await.unwrap();
        let p = public::catalogue(&mut c, city.as_ref(), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 1, "the draft and the other city's are not listed");
        let e = &p.items[0];
        assert_eq!((e.region_code.as_str(), e.year), (COUNTY, 2025));
        let names: Vec<&str> = e.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["居家养老探访", "社工站运营"]);
        assert_eq!(e.items[1].status, ItemStatus::Purchasing);
        assert_eq!(e.more_items, 0);
        assert_eq!(e.removed.len(), 1);
        assert_eq!(e.removed[0].name, "禁毒社工服务");
        assert_eq!(
            e.removed[0].removal_reason,
            Some(RemovalReason::UnpurchasedTwoYears)
        );
        // The whole country sees both published editions, the draft still not.
        let p = public::catalogue(&mut c, None, page(1, 10)).await.unwrap();
        assert_eq!(p.total, 2);
        assert!(p.items.iter().all(|e| e.year == 2025));
        // A county's subtree holds only its own.
        let p = public::catalogue(&mut c, Some(&code(OTHER_CITY_COUNTY)), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 1);
        assert_eq!(p.items[0].items[0].name, "长沙的项目");
        drop(c);
        let _ = draft;

        // Contracts: two of the county (one buying the published item, one the draft's), one
        // of the other city.
        let provider = agency(&db, "启航社工", COUNTY).await;
        let st = station(
            &db,
            COUNTY,
            &input(
                "430202001",
                "一号社工站",
                Status::Operating,
                Some(&provider),
            ),
        )
        .await;
        let bought = new_contract(
            &db,
            ContractInput {
                catalogue_item_id: Some(kept.clone()),
                ..contract_input("PG-1", &provider, vec![st])
            },
        )
        .await;
        new_contract(
            &db,
            ContractInput {
                catalogue_item_id: Some(draft_item.clone()),
                ..contract_input("PG-2", &provider, vec![])
            },
        )
        .await;
        new_contract(
            &db,
            ContractInput {
                region: code(OTHER_CITY_COUNTY),
                ..contract_input("CS-1", &provider, vec![])
            },
        )
        .await;
        let mut tx = db.begin().await.unwrap();
        contracts::set_state(
            &mut tx,
            &Scope::national(),
            &bought,
            ContractState::InForce,
            NOW,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut c = db.read().await.unwrap();
        let p = public::contracts(&mut c, city.as_ref(), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 2, "the other city's contract is not listed");
        let mut numbers: Vec<&str> = p.items.iter().map(|n| n.number.as_str()).collect();
        numbers.sort_unstable();
        assert_eq!(numbers, ["PG-1", "PG-2"]);
        let one = p.items.iter().find(|n| n.number == "PG-1").unwrap();
        assert_eq!(one.provider_name, "启航社工");
        assert_eq!(one.state, ContractState::InForce);
        assert_eq!(one.catalogue_item.as_deref(), Some("居家养老探访"));
        assert_eq!(
            (one.station_count, one.stations.clone()),
            (1, vec!["一号社工站".to_owned()])
        );
        assert_eq!(one.amount.0, 30_000_000);
        assert_eq!(one.term.start(), d("2025-06-01"));
        let two = p.items.iter().find(|n| n.number == "PG-2").unwrap();
        assert_eq!(
            two.catalogue_item, None,
            "a draft edition's item is not named"
        );
        assert_eq!(two.station_count, 0);
        // Paged: one a page, the count stays.
        let p = public::contracts(&mut c, city.as_ref(), page(2, 1))
            .await
            .unwrap();
        assert_eq!((p.total, p.items.len()), (2, 1));
        // A page never holds more than the cap, whatever is asked.
        let p = public::contracts(&mut c, None, page(1, 10_000))
            .await
            .unwrap();
        assert_eq!((p.total, p.per_page), (3, public::PER_PAGE_MAX));
        drop(c);

        // Evaluations: one published (excellent), one final but not published (good).
        let shown = graded(&db, &bought, EvaluationKind::MidTerm, "优").await;
        graded(&db, &bought, EvaluationKind::SpotCheck, "良").await;
        let mut c = db.read().await.unwrap();
        let p = public::evaluations(&mut c, city.as_ref(), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 0, "final is not published");
        drop(c);
        step(&db, &scope(COUNTY), &shown, EvaluationState::Published)
            .await
            .unwrap();
        let mut c = db.read().await.unwrap();
        let p = public::evaluations(&mut c, city.as_ref(), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 1);
        let e = &p.items[0];
        assert_eq!(
            (e.contract_number.as_str(), e.kind, e.grade),
            ("PG-1", EvaluationKind::MidTerm, Grade::Excellent)
        );
        assert_eq!((e.total, e.max), (Points::whole(1000), Points::whole(1000)));
        assert_eq!(e.provider_name, "启航社工");
        assert_eq!(e.finished_on, Some(d("2026-01-10")));
        // Another city's subtree sees none of it.
        let other = Some(code("4301"));
        let p = public::evaluations(&mut c, other.as_ref(), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 0);
        assert_eq!(
            public::counts(&mut c, city.as_ref()).await.unwrap(),
            Counts {
                editions: 1,
                procurement_notices: 0,
                contracts: 2,
                evaluations: 1
            }
        );
        assert_eq!(
            public::counts(&mut c, other.as_ref()).await.unwrap(),
            Counts {
                editions: 1,
                procurement_notices: 0,
                contracts: 1,
                evaluations: 0
            }
        );
    }
);

db_test!(what_is_public_carries_no_usernames_or_record_ids, |db| {
    let kept = item(&db, COUNTY, 2025, "居家养老探访", &included()).await;
    let edition = edition_of(&db, &kept).await;
    publish(&db, &scope(COUNTY), &edition).await.unwrap();
    let provider = agency(&db, "启航社工", COUNTY).await;
    let contract = new_contract(
        &db,
        ContractInput {
            catalogue_item_id: Some(kept.clone()),
            ..contract_input("PG-1", &provider, vec![])
        },
    )
    .await;
    let id = graded(&db, &contract, EvaluationKind::MidTerm, "优").await;
    step(&db, &scope(COUNTY), &id, EvaluationState::Published)
        .await
        .unwrap();
    let mut c = db.read().await.unwrap();
    let city = Some(code("4302"));
    let text = format!(
        "{}{}{}",
        serde_json::to_string(
            &public::catalogue(&mut c, city.as_ref(), page(1, 10))
                .await
                .unwrap()
                .items
        )
        .unwrap(),
        serde_json::to_string(
            &public::contracts(&mut c, city.as_ref(), page(1, 10))
                .await
                .unwrap()
                .items
        )
        .unwrap(),
        serde_json::to_string(
            &public::evaluations(&mut c, city.as_ref(), page(1, 10))
                .await
                .unwrap()
                .items
        )
        .unwrap(),
    );
    assert!(
        text.contains("居家养老探访") && text.contains("PG-1"),
        "{text}"
    );
    for secret in [
        "clerk_wang",
        "test",
        kept.as_str(),
        contract.as_str(),
        id.as_str(),
        provider.as_str(),
        edition.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
});

db_test!(
    an_editions_items_are_capped_with_the_count_of_the_rest,
    |db| {
        let mut tx = db.begin().await.unwrap();
        let all = Scope::national();
        let mut edition = String::new();
        for n in 0..=public::ITEMS_CAP {
            let (id, e) = catalogue::create_item(
                &mut tx,
                &all,
                &ItemInput {
                    region: code(COUNTY),
                    year: 2025,
                    edition_title: "目录".into(),
                    field: ServiceField::Community,
                    name: format!("项目{n:04}"),
                    description: String::new(),
                    cost_shares: CostShares::new(vec![CostShare {
                        level: PurchaserLevel::District,
                        share_bp: 10_000,
                    }])
                    .unwrap(),
                },
                "clerk_wang",
                NOW,
            )
            .await
            .unwrap();
            for s in included() {
                catalogue::move_item(&mut tx, &all, &id, &s, "clerk_wang", NOW)
                    .await
                    .unwrap();
            }
            edition = e;
        }
        catalogue::publish_edition(&mut tx, &all, &edition, NOW)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut c = db.read().await.unwrap();
        let p = public::catalogue(&mut c, Some(&code(COUNTY)), page(1, 10))
            .await
            .unwrap();
        let e = &p.items[0];
        assert_eq!(e.items.len() as i64, public::ITEMS_CAP);
        assert_eq!(e.more_items, 1);
        assert_eq!(e.items[0].name, "项目0000");
        assert!(e.removed.is_empty());
    }
);

/// A project of `region` (procuring by `method` when given) with `notices` (kind, published on,
/// title, url) filed in that order, each a minute after the last from `filed`; its id.
async fn project(
    db: &Db,
    region: &str,
    number: &str,
    purchaser: Option<&str>,
    method: Option<ProcurementMethod>,
    notices: &[(NoticeKind, &str, &str, &str)],
    filed: i64,
) -> String {
    let all = Scope::national();
    let mut tx = db.begin().await.unwrap();
    let id = projects::create(
        &mut tx,
        &all,
        &ProjectInput {
            region: code(region),
            project: Project {
                number: number.into(),
                name: format!("{number} 社工站服务项目"),
                budget: Fen(50_000_000),
                term: Term::new(d("2025-06-01"), d("2026-05-31")).unwrap(),
            },
            purchaser_org_id: purchaser.map(str::to_owned),
            catalogue_item_id: None,
            stations: vec![],
        },
        "clerk_wang",
        NOW,
    )
    .await
    .unwrap();
    if let Some(m) = method {
        projects::set_state(&mut tx, &all, &id, ProjectState::Procuring, Some(m), NOW)
            .await
            .unwrap();
    }
    for (n, (kind, on, title, url)) in (0_i64..).zip(notices) {
        let notice = Notice {
            kind: *kind,
            published_on: d(on),
            title: (*title).into(),
            url: (*url).into(),
        };
        let at = filed + n * 60_000;
        projects::add_notice(
            &mut tx,
            &all,
            &id,
            &notice,
            d("2025-12-31"),
            "clerk_wang",
            at,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    id
}

db_test!(
    procurement_notices_of_the_subtree_are_public_latest_first,
    |db| {
        let purchaser = agency(&db, "株洲市荷塘区民政局", COUNTY).await;
        let mut c = db.read().await.unwrap();
        let city = Some(code("4302"));
        let p = public::procurement_notices(&mut c, city.as_ref(), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 0);
        drop(c);
        // The county's project, procured by consultation: its notice, a correction without a
        // link, the result.
        let a = project(
            &db,
            COUNTY,
            "ZC-1",
            Some(&purchaser),
            Some(ProcurementMethod::CompetitiveConsultation),
            &[
                (
                    NoticeKind::Procurement,
                    "2025-05-10",
                    "ZC-1 竞争性磋商公告",
                    "https://www.ccgp-hunan.gov.cn/notice/1",
                ),
                (NoticeKind::Correction, "2025-05-12", "ZC-1 更正公告", ""),
                (
                    NoticeKind::Result,
                    "2025-06-01",
                    "ZC-1 成交结果公告",
                    "https://www.ccgp-hunan.gov.cn/notice/2",
                ),
            ],
            NOW,
        )
        .await;
        // Another county of the city: a project not yet procuring, its notice published the
        // same day as the correction but filed later.
        let b = project(
            &db,
            "430203",
            "ZC-2",
            None,
            None,
            &[(
                NoticeKind::Procurement,
                "2025-05-12",
                "ZC-2 采购意向公告",
                "http://www.ccgp-hunan.gov.cn/notice/3",
            )],
            NOW + 3_600_000,
        )
        .await;
        // A county of another city, the latest notice of all.
        project(
            &db,
            OTHER_CITY_COUNTY,
            "CS-1",
            None,
            Some(ProcurementMethod::PublicTender),
            &[(NoticeKind::Termination, "2025-07-01", "CS-1 终止公告", "")],
            NOW,
        )
        .await;

        let mut c = db.read().await.unwrap();
        let p = public::procurement_notices(&mut c, city.as_ref(), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 4, "the other city's notice is not listed");
        let titles: Vec<&str> = p.items.iter().map(|n| n.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "ZC-1 成交结果公告",
                "ZC-2 采购意向公告",
                "ZC-1 更正公告",
                "ZC-1 竞争性磋商公告"
            ],
            "latest published first; on one day the latest filed first"
        );
        let result = &p.items[0];
        assert_eq!(
            (result.kind, result.published_on),
            (NoticeKind::Result, d("2025-06-01"))
        );
        assert_eq!(
            (
                result.region_code.as_str(),
                result.project_number.as_str(),
                result.project_name.as_str()
            ),
            (COUNTY, "ZC-1", "ZC-1 社工站服务项目")
        );
        assert_eq!(result.purchaser_name.as_deref(), Some("株洲市荷塘区民政局"));
        assert_eq!(
            result.method,
            Some(ProcurementMethod::CompetitiveConsultation)
        );
        assert_eq!(result.budget, Fen(50_000_000));
        assert_eq!(result.url, "https://www.ccgp-hunan.gov.cn/notice/2");
        assert!(result.region_path.is_some());
        let other = &p.items[1];
        assert_eq!(
            (
                other.region_code.as_str(),
                other.method,
                other.purchaser_name.as_deref()
            ),
            ("430203", None, None)
        );
        assert_eq!(p.items[2].url, "");
        // Paged: one a page, the count stays; never more than the cap.
        let p = public::procurement_notices(&mut c, city.as_ref(), page(2, 1))
            .await
            .unwrap();
        assert_eq!((p.total, p.items.len()), (4, 1));
        assert_eq!(p.items[0].title, "ZC-2 采购意向公告");
        let p = public::procurement_notices(&mut c, None, page(1, 10_000))
            .await
            .unwrap();
        assert_eq!((p.total, p.per_page), (5, public::PER_PAGE_MAX));
        assert_eq!(p.items[0].title, "CS-1 终止公告");
        // A county's subtree holds only its own; another city only the other city's.
        let p = public::procurement_notices(&mut c, Some(&code(COUNTY)), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 3);
        assert!(p.items.iter().all(|n| n.project_number == "ZC-1"));
        let far = Some(code("4301"));
        let p = public::procurement_notices(&mut c, far.as_ref(), page(1, 10))
            .await
            .unwrap();
        assert_eq!(p.total, 1);
        assert_eq!(p.items[0].kind, NoticeKind::Termination);
        // Counted with the other lists.
        let none = Counts::default();
        assert_eq!(
            public::counts(&mut c, city.as_ref()).await.unwrap(),
            Counts {
                procurement_notices: 4,
                ..none
            }
        );
        assert_eq!(
            public::counts(&mut c, far.as_ref()).await.unwrap(),
            Counts {
                procurement_notices: 1,
                ..none
            }
        );
        assert_eq!(
            public::counts(&mut c, None)
                .await
                .unwrap()
                .procurement_notices,
            5
        );
        // Nothing about who filed them, and no record ids.
        let p = public::procurement_notices(&mut c, None, page(1, 10))
            .await
            .unwrap();
        let text = serde_json::to_string(&p.items).unwrap();
        assert!(text.contains("ZC-1 竞争性磋商公告"), "{text}");
        for secret in ["clerk_wang", a.as_str(), b.as_str(), purchaser.as_str()] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
);
