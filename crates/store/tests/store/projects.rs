//! Purchase projects (issue 14 item 2): approved in the purchaser's region, procured with a
//! method and notices, awarded to a contract of the region within the budget (one project per
//! contract), seen only in scope.

#[allow(unused_imports)]
use super::*;

use shegong_domain::money::Fen;
use shegong_domain::purchase::contract::{ProcurementMethod, Term};
use shegong_domain::purchase::project::{Notice, NoticeKind, Project, ProjectState};
use shegong_store::purchase::projects::{self, Filter, ProjectInput};
use shegong_store::{PageRequest, StoreError, StoreResult};

use super::evaluations::{COUNTY, NOW, d, invalid, org_scope, world, write};

fn input(number: &str, budget: i64, stations: Vec<String>) -> ProjectInput {
    ProjectInput {
        region: code(COUNTY),
        project: Project {
            number: number.into(),
            name: "荷塘区社工站服务项目".into(),
            budget: Fen(budget),
            term: Term::new(d("2025-06-01"), d("2026-05-31")).unwrap(),
        },
        purchaser_org_id: None,
        catalogue_item_id: None,
        stations,
    }
}

async fn create(db: &Db, sc: &Scope, i: ProjectInput) -> StoreResult<String> {
    let sc = sc.clone();
    write(db, move |c| {
        Box::pin(async move { projects::create(c, &sc, &i, "test", NOW).await })
    })
    .await
}

async fn step(
    db: &Db,
    id: &str,
    to: ProjectState,
    method: Option<ProcurementMethod>,
) -> StoreResult<ProjectState> {
    let id = id.to_owned();
    write(db, move |c| {
        Box::pin(async move { projects::set_state(c, &scope(COUNTY), &id, to, method, NOW).await })
    })
    .await
}

async fn award(db: &Db, id: &str, contract: &str) -> StoreResult<String> {
    let (id, contract) = (id.to_owned(), contract.to_owned());
    write(db, move |c| {
        Box::pin(async move { projects::award(c, &scope(COUNTY), &id, &contract, NOW).await })
    })
    .await
}

db_test!(
    a_project_is_approved_procured_and_awarded_to_a_contract_within_its_budget,
    |db| {
        let w = world(&db).await;
        // The world's contract is 300,000 yuan.
        let small = create(&db, &scope(COUNTY), input("ZC-1", 29_999_999, vec![]))
            .await
            .unwrap();
        let id = create(&db, &scope(COUNTY), input("ZC-2", 30_000_000, vec![]))
            .await
            .unwrap();
        let e = invalid(create(&db, &scope(COUNTY), input("ZC-2", 1, vec![])).await);
        assert_eq!(
            (e.field, e.code),
            ("project_number", "project.number_taken")
        );
        let e = invalid(
            create(
                &db,
                &scope(COUNTY),
                input(
                    "ZC-3",
                    1,
                    vec!["0190a3c2-0000-7000-8000-00000000beef".into()],
                ),
            )
            .await,
        );
        assert_eq!(e.field, "stations");
        let e = invalid(create(&db, &org_scope(&w.provider), input("ZC-4", 1, vec![])).await);
        assert_eq!(e.code, "purchase.region_out_of_scope");

        // Not awarded before procurement; procurement needs its method.
        let e = invalid(award(&db, &id, &w.contract).await);
        assert_eq!(e.code, "project.not_procuring");
        let e = invalid(step(&db, &id, ProjectState::Procuring, None).await);
        assert_eq!(e.field, "procurement_method");
        step(
            &db,
            &id,
            ProjectState::Procuring,
            Some(ProcurementMethod::CompetitiveConsultation),
        )
        .await
        .unwrap();
        step(
            &db,
            &small,
            ProjectState::Procuring,
            Some(ProcurementMethod::PublicTender),
        )
        .await
        .unwrap();
        let notice = |on: &str| Notice {
            kind: NoticeKind::Procurement,
            published_on: d(on),
            title: "荷塘区社工站服务项目竞争性磋商公告".into(),
            url: "https://www.ccgp-hunan.gov.cn/notice/1".into(),
        };
        let add = |n: Notice| {
            let (db, id) = (db.clone(), id.clone());
            async move {
                write(&db, move |c| {
                    Box::pin(async move {
                        projects::add_notice(
                            c,
                            &scope(COUNTY),
                            &id,
                            &n,
                            d("2025-05-20"),
                            "test",
                            NOW,
                        )
                        .await
                    })
                })
                .await
            }
        };
        let e = invalid(add(notice("2025-05-21")).await);
        assert_eq!(e.field, "published_on");
        assert_eq!(add(notice("2025-05-10")).await.unwrap(), 1);

        // The contract is over the smaller budget; within the other it ends the procurement.
        let e = invalid(award(&db, &small, &w.contract).await);
        assert_eq!(e.code, "project.contract_over_budget");
        assert_eq!(award(&db, &id, &w.contract).await.unwrap(), "PG-1");
        let e = invalid(award(&db, &id, &w.other_contract).await);
        assert_eq!(e.code, "project.not_procuring");
        let e = invalid(step(&db, &id, ProjectState::Cancelled, None).await);
        assert_eq!(e.code, "project.transition_invalid");
        // A failed procurement is procured again; the awarded contract cannot end it.
        step(&db, &small, ProjectState::Failed, None).await.unwrap();
        step(
            &db,
            &small,
            ProjectState::Procuring,
            Some(ProcurementMethod::SingleSource),
        )
        .await
        .unwrap();
        let mut tx = db.begin().await.unwrap();
        let big = projects::get(&mut tx, &scope(COUNTY), &small)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(big.method, Some(ProcurementMethod::SingleSource));

        let mut c = db.read().await.unwrap();
        let p = projects::detail(&mut c, &scope(COUNTY), &id).await.unwrap();
        assert_eq!(p.project.state, ProjectState::Awarded);
        assert_eq!(p.project.contract_number.as_deref(), Some("PG-1"));
        assert_eq!(p.notices.len(), 1);
        let of = projects::of_contract(&mut c, &scope(COUNTY), &w.contract)
            .await
            .unwrap();
        assert_eq!(of.map(|o| o.1), Some("ZC-2".to_owned()));
        // Scope: the city above sees both, another county and an agency none.
        let page = |sc: Scope, f: Filter| {
            let db = db.clone();
            async move {
                let mut c = db.read().await.unwrap();
                projects::list(&mut c, &sc, &f, PageRequest::new(None, None))
                    .await
                    .unwrap()
                    .total
            }
        };
        assert_eq!(page(scope("4302"), Filter::default()).await, 2);
        assert_eq!(
            page(
                scope("4302"),
                Filter {
                    state: Some(ProjectState::Awarded),
                    ..Default::default()
                }
            )
            .await,
            1
        );
        assert_eq!(page(scope("430203"), Filter::default()).await, 0);
        assert_eq!(page(org_scope(&w.provider), Filter::default()).await, 0);
        let r = projects::get(&mut c, &scope("430203"), &id).await;
        assert!(matches!(r, Err(StoreError::NotFound)));
    }
);
