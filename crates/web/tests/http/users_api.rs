//! Issue 19 item 5: account administration by API, with the users pages' checks, scope,
//! permission and audit entries (create, edit, disable/enable, unlock, protected grants,
//! password and second-factor resets, where a second factor is required).

use serde_json::json;
use shegong_store::sql::Sql;

use super::fixtures::send_json;
use super::*;

/// Successful audit entries of `entity`/`action` about `entity_id`.
pub async fn audited(app: &TestApp, entity: &str, action: &str, entity_id: &str) -> i64 {
    let mut c = app.state.db.read().await.unwrap();
    Sql::new("SELECT COUNT(*) FROM audit_log WHERE outcome = 'success' AND entity = ")
        .bind(entity)
        .push(" AND action = ")
        .bind(action)
        .push(" AND entity_id = ")
        .bind(entity_id)
        .fetch_i64(&mut c)
        .await
        .unwrap()
}

/// The first field a 422 answer names.
pub fn field(res: &Res) -> String {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    res.json()["errors"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn post(c: &mut Client, path: &str) -> Res {
    send_json(c, Method::POST, path, json!({})).await
}

app_test!(managers_create_and_edit_accounts_by_api, |app| {
    let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
    let body = json!({"username": "api.worker1", "display_name": "接口社工",
                      "role": "social_worker", "region": "430203001"});
    let res = send_json(&mut admin, Method::POST, "/api/v1/users", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let created = res.json();
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["user"]["username"], "api.worker1");
    assert_eq!(created["user"]["status"], "temporary_password");
    let temporary = created["temporary_password"].as_str().unwrap().to_owned();
    assert!(temporary.len() >= 8);
    assert_eq!(audited(&app, "user", "create", &id).await, 1);
    // The password shown once signs in (to the forced password change).
    let mut owner = app.client();
    assert_eq!(
        owner.login("api.worker1", &temporary).await.status,
        StatusCode::SEE_OTHER
    );

    // The form's checks, each naming its field.
    for (body, expected) in [
        (
            json!({"username": "x", "display_name": "a", "role": "social_worker", "region": "430203001"}),
            "username",
        ),
        (
            json!({"username": "api.worker1", "display_name": "a", "role": "social_worker", "region": "430203001"}),
            "username",
        ),
        (
            json!({"username": "api.worker2", "display_name": "", "role": "social_worker", "region": "430203001"}),
            "display_name",
        ),
        (
            json!({"username": "api.worker2", "display_name": "a", "role": "security_admin", "region": "430203"}),
            "role",
        ),
        (
            json!({"username": "api.worker2", "display_name": "a", "role": "social_worker", "region": "430202001"}),
            "region",
        ),
    ] {
        let res = send_json(&mut admin, Method::POST, "/api/v1/users", body).await;
        assert_eq!(field(&res), expected);
    }

    // Edit: name, role and scope.
    let path = format!("/api/v1/users/{id}");
    let body = json!({"display_name": "接口督导", "role": "supervisor", "region": "430203"});
    let res = send_json(&mut admin, Method::PUT, &path, body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["name"], "接口督导");
    assert_eq!(res.json()["role"], "supervisor");
    assert_eq!(res.json()["region_code"], "430203");
    assert_eq!(audited(&app, "user", "update", &id).await, 1);
    let body = json!({"display_name": "接口督导", "role": "supervisor", "region": "11"});
    let res = send_json(&mut admin, Method::PUT, &path, body).await;
    assert_eq!(field(&res), "region");
    // One's own role stays.
    let me = admin.get("/api/v1/me").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"display_name": "我", "role": "supervisor", "region": "430203"});
    let res = send_json(
        &mut admin,
        Method::PUT,
        &format!("/api/v1/users/{me}"),
        body,
    )
    .await;
    assert_eq!(field(&res), "role");

    // Another county's account is not found; a role without the permission is forbidden.
    let other = app
        .user("hetang_worker", Role::SocialWorker, "430202001", false)
        .await;
    let body = json!({"display_name": "x", "role": "social_worker", "region": "430202001"});
    let res = send_json(
        &mut admin,
        Method::PUT,
        &format!("/api/v1/users/{other}"),
        body,
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    let mut worker = app.login_as(Role::SocialWorker, "430203001").await;
    let body = json!({"username": "api.worker3", "display_name": "a", "role": "social_worker", "region": "430203001"});
    let res = send_json(&mut worker, Method::POST, "/api/v1/users", body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    let body = json!({"display_name": "x", "role": "social_worker", "region": "430203001"});
    let res = send_json(&mut worker, Method::PUT, &path, body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
});

app_test!(
    account_actions_by_api_are_checked_scoped_and_audited,
    |app| {
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let id = app
            .user("lusong_worker", Role::SocialWorker, "430203001", false)
            .await;
        let other = app
            .user("hetang_worker", Role::SocialWorker, "430202001", false)
            .await;
        let mut worker = app.login_as(Role::SocialWorker, "430203002").await;
        for (action, audit, status) in [
            ("disable", "disable", "disabled"),
            ("enable", "enable", "active"),
            ("unlock", "unlock", "active"),
            ("grant-protected", "grant_protected", "active"),
            ("revoke-protected", "revoke_protected", "active"),
        ] {
            let res = post(&mut admin, &format!("/api/v1/users/{id}/{action}")).await;
            assert_eq!(res.status, StatusCode::OK, "{action}: {}", res.text);
            assert_eq!(res.json()["status"], status, "{action}");
            assert_eq!(audited(&app, "user", audit, &id).await, 1, "{action}");
            let res = post(&mut admin, &format!("/api/v1/users/{other}/{action}")).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{action}: {}", res.text);
            let res = post(&mut worker, &format!("/api/v1/users/{id}/{action}")).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{action}: {}", res.text);
        }
        // Not on one's own account.
        let me = admin.get("/api/v1/me").await.json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = post(&mut admin, &format!("/api/v1/users/{me}/disable")).await;
        assert_eq!(field(&res), "user");

        // A reset password is in the response, once, and signs in; the old one no longer does.
        let res = post(&mut admin, &format!("/api/v1/users/{id}/reset-password")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.json()["user"]["status"], "temporary_password");
        let temporary = res.json()["temporary_password"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(audited(&app, "user", "reset_password", &id).await, 1);
        let mut owner = app.client();
        assert_ne!(
            owner.login("lusong_worker", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            owner.login("lusong_worker", &temporary).await.status,
            StatusCode::SEE_OTHER
        );
        let res = post(&mut admin, &format!("/api/v1/users/{other}/reset-password")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let res = post(&mut worker, &format!("/api/v1/users/{id}/reset-password")).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    }
);

app_test!(
    security_administrators_manage_second_factors_by_api,
    |app| {
        let mut security = app.login_as(Role::SecurityAdmin, "430203").await;
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "430203").await;
        let id = app
            .user("lusong_worker", Role::SocialWorker, "430203001", false)
            .await;
        let other = app
            .user("hetang_worker", Role::SocialWorker, "430202001", false)
            .await;
        let path = format!("/api/v1/users/{id}/reset-twofactor");
        let res = post(&mut security, &path).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(audited(&app, "user", "twofactor_reset", &id).await, 1);
        let res = post(
            &mut security,
            &format!("/api/v1/users/{other}/reset-twofactor"),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
        let me = security.get("/api/v1/me").await.json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = post(
            &mut security,
            &format!("/api/v1/users/{me}/reset-twofactor"),
        )
        .await;
        assert_eq!(field(&res), "user");
        // Account managers other than security administrators may not.
        assert_eq!(post(&mut admin, &path).await.status, StatusCode::FORBIDDEN);

        // Where a second factor is required.
        let require = "/api/v1/twofactor/required-regions";
        let res = send_json(
            &mut security,
            Method::POST,
            require,
            json!({"region": "430203001"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
        assert_eq!(
            audited(&app, "region", "twofactor_require", "430203001").await,
            1
        );
        let res = send_json(
            &mut security,
            Method::POST,
            require,
            json!({"region": "430202"}),
        )
        .await;
        assert_eq!(field(&res), "region");
        let res = send_json(
            &mut admin,
            Method::POST,
            require,
            json!({"region": "430203001"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let remove = "/api/v1/twofactor/required-regions/remove";
        let res = send_json(
            &mut security,
            Method::POST,
            remove,
            json!({"region": "430203001"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
        assert_eq!(
            audited(&app, "region", "twofactor_unrequire", "430203001").await,
            1
        );
        let res = send_json(
            &mut security,
            Method::POST,
            remove,
            json!({"region": "430202"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let res = send_json(
            &mut security,
            Method::POST,
            remove,
            json!({"region": "43x"}),
        )
        .await;
        assert_eq!(field(&res), "region");
        let res = send_json(
            &mut admin,
            Method::POST,
            remove,
            json!({"region": "430203001"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    }
);
