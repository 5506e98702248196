//! The outside channels, one trait: e-mail through an SMTP relay (lettre), a generic webhook
//! (JSON signed with HMAC-SHA256, the shape a 浙政钉, 粤政易 or 企业微信 adapter plugs into) and
//! SMS through a provider's approved template (sent to the provider's HTTP gateway, signed the
//! same way). A channel only carries what the notification says: kinds of work and counts, and
//! a link — never a name, identity number or address.
//!
//! Connections are plain TCP: TLS to the outside is the relay's or gateway's job (a local
//! Postfix, the adapter inside the government network), which keeps TLS stacks out of this
//! binary.

use std::time::Duration;

use crate::import::engine::BoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use shegong_domain::notify::ChannelKind;

/// Who a delivery goes to: the account, and the addresses they gave (opened for this send only).
pub struct Recipient {
    pub username: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
}

/// What a channel sends.
#[derive(Serialize)]
pub struct Message {
    /// The notification's id: receivers drop repeats (a retry after a lost answer).
    pub id: String,
    pub event: String,
    pub text: String,
    /// An absolute link (the configured base address plus the page's path).
    pub link: String,
}

pub trait Channel: Send + Sync {
    fn kind(&self) -> ChannelKind;
    /// Deliver or say why not (the outbox retries on its schedule).
    fn send<'a>(&'a self, to: &'a Recipient, m: &'a Message) -> BoxFuture<'a, Result<(), String>>;
}

/// How long one delivery may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(15);

/// `[notify.email]`: an SMTP relay.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub host: String,
    #[serde(default = "smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// The sender, e.g. `社工站信息平台 <noreply@mz.example.gov.cn>`.
    pub from: String,
}

fn smtp_port() -> u16 {
    25
}

/// `[notify.webhook]`: where to POST, and the shared secret of the signature.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://host[:port]/path`.
    pub url: String,
    pub secret: String,
}

/// `[notify.sms]`: the provider's gateway and the approved template's code.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    pub url: String,
    pub secret: String,
    pub template: String,
}

pub struct Email {
    config: EmailConfig,
}

impl Email {
    pub fn new(config: EmailConfig) -> Self {
        Self { config }
    }
}

impl Channel for Email {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn send<'a>(&'a self, to: &'a Recipient, m: &'a Message) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Mail, Tokio1Executor};
            let address = to.email.as_deref().ok_or("no e-mail address")?;
            let mail = Mail::builder()
                .from(self.config.from.parse().map_err(|e| format!("from: {e}"))?)
                .to(address.parse().map_err(|e| format!("to: {e}"))?)
                .subject(m.text.clone())
                .body(format!("{}\n\n{}\n", m.text, m.link))
                .map_err(|e| e.to_string())?;
            let mut builder =
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.config.host)
                    .port(self.config.port)
                    .timeout(Some(TIMEOUT));
            if !self.config.username.is_empty() {
                builder =
                    builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                        self.config.username.clone(),
                        self.config.password.clone(),
                    ));
            }
            builder
                .build()
                .send(mail)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// The JSON webhook.
pub struct Webhook {
    config: WebhookConfig,
}

impl Webhook {
    pub fn new(config: WebhookConfig) -> Self {
        Self { config }
    }
}

/// The webhook's body: the account (the adapter maps it to its own user id) and the message.
#[derive(Serialize)]
struct WebhookBody<'a> {
    username: &'a str,
    #[serde(flatten)]
    message: &'a Message,
}

impl Channel for Webhook {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }

    fn send<'a>(&'a self, to: &'a Recipient, m: &'a Message) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let body = serde_json::to_vec(&WebhookBody {
                username: &to.username,
                message: m,
            })
            .map_err(|e| e.to_string())?;
            post_signed(&self.config.url, &self.config.secret, body).await
        })
    }
}

/// SMS through the provider's template: the template's parameters are the kind of work and the
/// count, so the text is the approved one and carries nothing else.
pub struct Sms {
    config: SmsConfig,
}

impl Sms {
    pub fn new(config: SmsConfig) -> Self {
        Self { config }
    }
}

#[derive(Serialize)]
struct SmsBody<'a> {
    id: &'a str,
    mobile: &'a str,
    template: &'a str,
    params: SmsParams<'a>,
}

#[derive(Serialize)]
struct SmsParams<'a> {
    event: &'a str,
    text: &'a str,
    link: &'a str,
}

impl Channel for Sms {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn send<'a>(&'a self, to: &'a Recipient, m: &'a Message) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mobile = to.mobile.as_deref().ok_or("no mobile number")?;
            let body = serde_json::to_vec(&SmsBody {
                id: &m.id,
                mobile,
                template: &self.config.template,
                params: SmsParams {
                    event: &m.event,
                    text: &m.text,
                    link: &m.link,
                },
            })
            .map_err(|e| e.to_string())?;
            post_signed(&self.config.url, &self.config.secret, body).await
        })
    }
}

/// `sha256=<hex>` of `timestamp.body` under `secret`: what the receiver recomputes.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POST `body` as JSON to an `http://` URL with `X-Shegong-Timestamp` and `X-Shegong-Signature`;
/// any 2xx is delivered.
async fn post_signed(url: &str, secret: &str, body: Vec<u8>) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// (TLS is the gateway's)")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let sig = signature(secret, &timestamp, &body);
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header("x-shegong-timestamp", timestamp)
        .header("x-shegong-signature", sig)
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(authority)
            .await
            .map_err(|e| format!("connect {authority}: {e}"))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", response.status()))
        }
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| "timed out".to_owned())?
}
