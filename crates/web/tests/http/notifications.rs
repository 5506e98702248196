//! Notifications: the notifier posts to the inbox from the to-do queue; the outbox carries it to
//! outside channels, retrying a failing channel without losing the message or holding up a
//! write; pushed text never carries personal data; the webhook is signed; the API and pages.

use std::sync::{Arc, Mutex};

use shegong_domain::notify::ChannelKind;
use shegong_store::todo::Kind;
use shegong_web::config::NotifyConfig;
use shegong_web::notifications::channels::{
    self, Channel, Message, Recipient, Webhook, WebhookConfig,
};
use shegong_web::notifications::notifier;

use super::fixtures::send_json;
use super::*;

/// A channel that fails while `failing` is set and records what it sent.
struct Fake {
    kind: ChannelKind,
    failing: Mutex<bool>,
    sent: Mutex<Vec<(String, String, String)>>,
}

impl Channel for Fake {
    fn kind(&self) -> ChannelKind {
        self.kind
    }

    fn send<'a>(
        &'a self,
        to: &'a Recipient,
        m: &'a Message,
    ) -> shegong_web::import::engine::BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if *self.failing.lock().unwrap() {
                return Err("gateway down".into());
            }
            self.sent
                .lock()
                .unwrap()
                .push((to.username.clone(), m.text.clone(), m.link.clone()));
            Ok(())
        })
    }
}

async fn app_with_webhook(db: shegong_store::testing::TestDb) -> TestApp {
    let config = Config {
        twofactor_for_administrators: false,
        notify: NotifyConfig {
            webhook: Some(WebhookConfig {
                url: "http://127.0.0.1:9/hook".into(),
                secret: "s3cret".into(),
            }),
            ..NotifyConfig::default()
        },
        ..Config::default()
    };
    TestApp::with_config(db, config).await
}

const NAME: &str = "欧阳秀英";
const ID: &str = "43020319850101001X";
const ADDRESS: &str = "荷塘区幸福路 12 号";

/// A signed-in worker with an overdue visit to a resident of theirs, who wants visits on the
/// webhook as well.
async fn worker_with_an_overdue_visit(app: &TestApp) -> Client {
    app.user("worker1", Role::SocialWorker, "430202001", false)
        .await;
    let mut w = app.client();
    w.login("worker1", PASSWORD).await;
    let me = {
        let mut c = app.state.db.read().await.unwrap();
        shegong_store::admin::users::get_by_username(&mut c, &Scope::national(), "worker1")
            .await
            .unwrap()
            .id
    };
    // A resident of the worker's, registered long ago: a visit is overdue.
    let res = w
        .post_form(
            "/residents",
            &[
                ("name", NAME),
                ("id_type", "resident_id"),
                ("id_number", ID),
                ("address", ADDRESS),
                ("region", "430202001"),
                ("risk_tier", "key"),
                ("legal_basis", "statutory_duty"),
                ("worker", me.as_str()),
                ("registered_on", "2024-01-01"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    // The worker wants visits on the webhook as well.
    let res = send_json(
        &mut w,
        Method::POST,
        "/api/v1/notifications/settings",
        serde_json::json!({ "choices": [{ "event": "visit", "channel": "webhook" }] }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json()["channels"], serde_json::json!(["webhook"]));
    w
}

async fn a_failing_channel_delays_only_itself(db: shegong_store::testing::TestDb) {
    let app = app_with_webhook(db).await;
    let mut w = worker_with_an_overdue_visit(&app).await;
    assert!(notifier::scan(&app.state).await.unwrap() >= 1);
    // Nothing new: no second message.
    assert_eq!(notifier::scan(&app.state).await.unwrap(), 0);
    let inbox = w.get("/api/v1/notifications").await.json();
    let visit = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["event"] == "visit")
        .cloned()
        .expect("a visit notification");
    let text = visit["text"].as_str().unwrap();
    assert!(text.contains("应探访的服务对象"), "{text}");
    for secret in [NAME, ID, ADDRESS, "欧阳"] {
        assert!(!text.contains(secret), "{text}");
    }

    let fake = Arc::new(Fake {
        kind: ChannelKind::Webhook,
        failing: Mutex::new(true),
        sent: Mutex::new(Vec::new()),
    });
    let channels: Vec<Arc<dyn Channel>> = vec![fake.clone()];
    let (sent, failed) = notifier::deliver(&app.state, &channels).await.unwrap();
    assert_eq!((sent, failed), (0, 1));
    // The failure holds nothing up: a write goes through, the message is still in the inbox,
    // and the delivery waits for its retry (not again at once).
    let res = w
        .post_form(
            "/residents",
            &[
                ("name", "李四"),
                ("birth_date", "1950-01-01"),
                ("region", "430202001"),
                ("risk_tier", "general"),
                ("legal_basis", "statutory_duty"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        notifier::deliver(&app.state, &channels).await.unwrap(),
        (0, 0)
    );
    *fake.failing.lock().unwrap() = false;
    app.advance_minutes(2);
    assert_eq!(
        notifier::deliver(&app.state, &channels).await.unwrap(),
        (1, 0)
    );
    let sent = fake.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "worker1");
    assert!(sent[0].2.ends_with("/todo"), "{:?}", sent[0]);
    for secret in [NAME, ID, ADDRESS] {
        assert!(!sent[0].1.contains(secret));
    }
    // Delivered once: nothing left.
    app.advance_minutes(60);
    assert_eq!(
        notifier::deliver(&app.state, &channels).await.unwrap(),
        (0, 0)
    );

    // Read it through the page (signed in again: the clock moved past the idle limit): marked
    // read, on to the queue.
    w.login("worker1", PASSWORD).await;
    let id = visit["id"].as_str().unwrap();
    let res = w.get(&format!("/notifications/{id}/open")).await;
    assert_eq!(res.location(), "/todo");
    let inbox = w.get("/api/v1/notifications?unread=true").await.json();
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["id"] != id)
    );
    // Someone else's notification is not found.
    let mut other = app.login_as(Role::SocialWorker, "430202002").await;
    let res = send_json(
        &mut other,
        Method::POST,
        &format!("/api/v1/notifications/{id}/read"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

mod a_failing_channel_delays_only_itself {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_failing_channel_delays_only_itself(shegong_store::testing::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_failing_channel_delays_only_itself(shegong_store::testing::postgres().await).await;
    }
}

#[test]
fn pushed_text_is_kinds_and_counts_only() {
    // Every event, both languages: the text is the template filled with the kind's name and
    // numbers, so nothing a record holds can reach it.
    for lang in [
        shegong_web::ui::i18n::Lang::Zh,
        shegong_web::ui::i18n::Lang::En,
    ] {
        let t = shegong_web::ui::i18n::Tr::new(lang);
        let mut all = Vec::new();
        for kind in Kind::ALL {
            let label = t.get(&format!("todo.kind.{}", kind.as_str())).to_owned();
            assert!(!label.starts_with("todo."), "{label}");
            let text = notifier::text(&t, kind, 12, 3);
            let stripped = text.replace(&label, "").replace("12", "").replace('3', "");
            let template = t.get("notify.text_overdue");
            let bare = template
                .replace("{n}", "")
                .replace("{kind}", "")
                .replace("{late}", "");
            assert_eq!(stripped, bare, "{text}");
            all.push((kind, 12, 3));
        }
        let digest = notifier::digest_text(&t, &all);
        assert!(!digest.contains('{'), "{digest}");
    }
}

app_test!(settings_name_the_wrong_field, |app| {
    let mut w = app.login_as(Role::SocialWorker, "430202001").await;
    let bad = [
        (serde_json::json!({ "email": "li@" }), "email"),
        (serde_json::json!({ "mobile": "12345" }), "mobile"),
        (
            serde_json::json!({ "quiet_from": "25:00", "quiet_to": "07:00" }),
            "quiet_from",
        ),
        (
            serde_json::json!({ "choices": [{ "event": "visit", "channel": "fax" }] }),
            "channel",
        ),
        (
            serde_json::json!({ "choices": [{ "event": "nothing", "channel": "email" }], "email": "li@mz.gov.cn" }),
            "event",
        ),
        (
            serde_json::json!({ "choices": [{ "event": "visit", "channel": "email" }] }),
            "email",
        ),
    ];
    for (body, field) in bad {
        let res = send_json(
            &mut w,
            Method::POST,
            "/api/v1/notifications/settings",
            body.clone(),
        )
        .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            res.text
        );
        assert!(res.text.contains(field), "{body}: {}", res.text);
    }
    let good = serde_json::json!({ "email": " li@mz.gov.cn ", "mobile": "13812345678", "digest": true,
        "quiet_from": "22:00", "quiet_to": "07:00", "choices": [{ "event": "digest", "channel": "email" }] });
    let res = send_json(&mut w, Method::POST, "/api/v1/notifications/settings", good).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let s = w.get("/api/v1/notifications/settings").await.json();
    assert_eq!(s["email"], "li@mz.gov.cn");
    assert_eq!(s["digest"], true);
    // Stored sealed, never in clear.
    assert_eq!(
        super::fixtures::count(
            &app,
            "SELECT COUNT(*) FROM notification_settings WHERE email_sealed LIKE '%li@mz%'"
        )
        .await,
        0
    );
    assert_eq!(
        super::fixtures::count(
            &app,
            "SELECT COUNT(*) FROM notification_settings WHERE email_sealed IS NOT NULL"
        )
        .await,
        1
    );
    // The page shows the same and says which field is wrong.
    let page = w.get("/notifications/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    let res = w
        .post_form(
            "/notifications/settings",
            &[("email", "not-an-address"), ("choice", "visit:email")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.select("#email-error").len(), 1, "{}", res.text);
    assert_eq!(
        app.client().get("/api/v1/notifications").await.status,
        StatusCode::UNAUTHORIZED
    );
});

/// What the receiver got: timestamp, signature, body.
type Received = Arc<Mutex<Option<(String, String, Vec<u8>)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_is_signed() {
    // A receiver that checks the signature as an adapter would.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let got: Received = Arc::new(Mutex::new(None));
    let keep = got.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let keep = keep.clone();
                async move {
                    let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
                    *keep.lock().unwrap() = Some((
                        h("x-shegong-timestamp"),
                        h("x-shegong-signature"),
                        body.to_vec(),
                    ));
                    "ok"
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let hook = Webhook::new(WebhookConfig {
        url: format!("http://{addr}/hook"),
        secret: "s3cret".into(),
    });
    let to = Recipient {
        username: "worker1".into(),
        email: None,
        mobile: None,
    };
    let m = Message {
        id: "n1".into(),
        event: "visit".into(),
        text: "您有 3 项应探访的服务对象，请登录处理。".into(),
        link: "https://shegong.example/todo".into(),
    };
    hook.send(&to, &m).await.unwrap();
    let (ts, sig, body) = got.lock().unwrap().clone().unwrap();
    assert_eq!(sig, channels::signature("s3cret", &ts, &body));
    assert_ne!(sig, channels::signature("other", &ts, &body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["username"], "worker1");
    assert_eq!(v["event"], "visit");
    // An unreachable receiver is an error to retry, not a hang or a crash.
    let dead = Webhook::new(WebhookConfig {
        url: "http://127.0.0.1:9/hook".into(),
        secret: "s".into(),
    });
    assert!(dead.send(&to, &m).await.is_err());
    let https = Webhook::new(WebhookConfig {
        url: "https://example.com/hook".into(),
        secret: "s".into(),
    });
    assert!(https.send(&to, &m).await.is_err());
}

/// A one-message SMTP relay: answers the dialogue and hands back what it was given.
async fn fake_relay() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 relay ready\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 relay\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go on\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        let _ = tx.send(data);
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mail_goes_through_the_relay() {
    use shegong_web::notifications::channels::{Email, EmailConfig};
    let (port, got) = fake_relay().await;
    let mail = Email::new(EmailConfig {
        host: "127.0.0.1".into(),
        port,
        username: String::new(),
        password: String::new(),
        from: "社工站信息平台 <noreply@mz.example.gov.cn>".into(),
    });
    let to = Recipient {
        username: "worker1".into(),
        email: Some("li@mz.example.gov.cn".into()),
        mobile: None,
    };
    let m = Message {
        id: "n1".into(),
        event: "visit".into(),
        text: "You have 3 residents due for a visit.".into(),
        link: "https://shegong.example/todo".into(),
    };
    mail.send(&to, &m).await.unwrap();
    let data = tokio::time::timeout(std::time::Duration::from_secs(10), got)
        .await
        .unwrap()
        .unwrap();
    assert!(data.contains("li@mz.example.gov.cn"), "{data}");
    assert!(data.contains("https://shegong.example/todo"), "{data}");
    // No address: an error to record, not a send.
    let nobody = Recipient {
        username: "w".into(),
        email: None,
        mobile: None,
    };
    assert!(mail.send(&nobody, &m).await.is_err());
}
