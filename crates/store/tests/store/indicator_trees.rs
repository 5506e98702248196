//! Indicator trees per region and version (issue 14 item 5): an evaluation is planned on the
//! latest version of the nearest region's tree and keeps it when a new version comes; a tree is
//! checked whole and refused naming the node, with nothing written; who sees which tree.

#[allow(unused_imports)]
use super::*;

use shegong_domain::FieldError;
use shegong_domain::purchase::default_tree::guangzhou_1000_nodes;
use shegong_domain::purchase::evaluation::{EvaluationKind, GradeThresholds, Points};
use shegong_store::purchase::evaluations as evals;
use shegong_store::purchase::indicator_trees::{self as trees, TreeInput};
use shegong_store::{PageRequest, StoreError};

use super::evaluations::{COUNTY, NOW, org_scope, plan, world, write};

const CITY: &str = "4302";
const SIBLING: &str = "430203";

fn input(region: &str, name: &str) -> TreeInput {
    TreeInput {
        region: code(region),
        name: name.into(),
        nodes: guangzhou_1000_nodes(),
        thresholds: GradeThresholds::new(8500, 7500, 6000).unwrap(),
    }
}

async fn create(db: &Db, by: &Scope, input: TreeInput) -> Result<String, StoreError> {
    let by = by.clone();
    write(db, move |c| {
        Box::pin(async move { trees::create_tree(c, &by, &input, NOW).await })
    })
    .await
}

async fn tree_of(db: &Db, evaluation: &str) -> (String, i64) {
    let mut c = db.read().await.unwrap();
    let ev = evals::get(&mut c, &scope(COUNTY), evaluation)
        .await
        .unwrap();
    (ev.tree_id, ev.tree_version)
}

/// (region, version, current, evaluations) of every tree `by` sees.
async fn seen(db: &Db, by: &Scope) -> Vec<(String, i64, bool, i64)> {
    let mut c = db.read().await.unwrap();
    trees::list(&mut c, by, PageRequest::new(None, None))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| (t.region_code, t.version, t.current, t.evaluations))
        .collect()
}

db_test!(evaluations_use_the_nearest_latest_tree_and_keep_it, |db| {
    let w = world(&db).await;
    // Nothing stored yet: the first evaluation stores and uses the national default.
    let on_default = plan(&db, &w.contract, EvaluationKind::SpotCheck, None)
        .await
        .unwrap();
    let default = tree_of(&db, &on_default).await;
    assert_eq!(default.1, 1);

    let city_tree = create(&db, &scope(CITY), input(CITY, "株洲市指标"))
        .await
        .unwrap();
    let on_city = plan(&db, &w.contract, EvaluationKind::MidTerm, None)
        .await
        .unwrap();
    assert_eq!(tree_of(&db, &on_city).await, (city_tree.clone(), 1));

    // The city may set a county's tree; the county its own next version.
    let county_v1 = create(&db, &scope(CITY), input(COUNTY, "荷塘区指标"))
        .await
        .unwrap();
    let county_v2 = create(&db, &scope(COUNTY), input(COUNTY, "荷塘区指标（修订）"))
        .await
        .unwrap();
    let on_county = plan(&db, &w.contract, EvaluationKind::Final, Some(&w.evaluator))
        .await
        .unwrap();
    assert_eq!(tree_of(&db, &on_county).await, (county_v2.clone(), 2));
    // Earlier evaluations keep the trees they were planned on.
    assert_eq!(tree_of(&db, &on_default).await, default);
    assert_eq!(tree_of(&db, &on_city).await.0, city_tree);

    let mut c = db.read().await.unwrap();
    let stored = trees::get(&mut c, &scope(COUNTY), &county_v2)
        .await
        .unwrap();
    assert_eq!(stored.name, "荷塘区指标（修订）");
    assert_eq!(stored.thresholds_bp, (8500, 7500, 6000));
    assert_eq!(stored.tree.max(), Points::whole(1000));
    let effect = trees::in_effect(&mut c, "430202001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(effect.id, county_v2, "a township uses its county's tree");
    let effect = trees::in_effect(&mut c, SIBLING).await.unwrap().unwrap();
    assert_eq!(effect.id, city_tree, "a sibling county uses the city's");
    drop(c);

    // The county sees the default, the city's (it applies to it) and its own versions.
    assert_eq!(
        seen(&db, &scope(COUNTY)).await,
        vec![
            (String::new(), 1, true, 1),
            (CITY.into(), 1, true, 1),
            (COUNTY.into(), 2, true, 1),
            (COUNTY.into(), 1, false, 0),
        ]
    );
    // A sibling county sees neither of the county's versions, and cannot open one.
    assert_eq!(
        seen(&db, &scope(SIBLING)).await,
        vec![(String::new(), 1, true, 1), (CITY.into(), 1, true, 1)]
    );
    let mut c = db.read().await.unwrap();
    for id in [&county_v1, &county_v2] {
        assert!(matches!(
            trees::get(&mut c, &scope(SIBLING), id).await,
            Err(StoreError::NotFound)
        ));
    }
    drop(c);
    // The evaluator organisation sees the default and the tree of the evaluation it is assigned.
    assert_eq!(
        seen(&db, &org_scope(&w.evaluator)).await,
        vec![(String::new(), 1, true, 1), (COUNTY.into(), 2, true, 1)]
    );
    let mut c = db.read().await.unwrap();
    assert!(matches!(
        trees::get(&mut c, &org_scope(&w.other_evaluator), &county_v2).await,
        Err(StoreError::NotFound)
    ));
});

db_test!(a_tree_is_checked_whole_and_refused_naming_the_node, |db| {
    let refused = |r: Result<String, StoreError>| match r {
        Err(StoreError::Invalid(FieldError { field, code })) => (field, code),
        other => panic!("expected a field error, got {other:?}"),
    };
    let mut bad = input(COUNTY, "错误的指标体系");
    let core = bad
        .nodes
        .iter_mut()
        .find(|n| n.id == "core_delivery")
        .unwrap();
    core.max = Points::whole(149);
    assert_eq!(
        refused(create(&db, &scope(COUNTY), bad).await),
        ("nodes.core", "evaluation.children_points_mismatch")
    );
    let mut orphan = input(COUNTY, "错误的指标体系");
    orphan.nodes[3].parent = Some("nowhere".into());
    let id = orphan.nodes[3].id.clone();
    let (field, code) = refused(create(&db, &scope(COUNTY), orphan).await);
    assert_eq!(field, format!("nodes.{id}"));
    assert_eq!(code, "evaluation.parent_unknown");
    // Outside the caller's region, or by an organisation account: refused on the region.
    assert_eq!(
        refused(create(&db, &scope(COUNTY), input(SIBLING, "越权")).await),
        ("region", "purchase.region_out_of_scope")
    );
    assert_eq!(
        refused(
            create(
                &db,
                &org_scope("0190a3c2-0000-7000-8000-000000000001"),
                input(COUNTY, "越权")
            )
            .await
        ),
        ("region", "purchase.region_out_of_scope")
    );
    assert_eq!(
        refused(create(&db, &scope(COUNTY), input(COUNTY, "  ")).await),
        ("name", "purchase.text_invalid")
    );
    // Nothing was stored by any of them.
    let mut c = db.read().await.unwrap();
    assert_eq!(
        shegong_store::sql::Sql::new("SELECT COUNT(*) FROM indicator_trees")
            .fetch_i64(&mut c)
            .await
            .unwrap(),
        0
    );
});
