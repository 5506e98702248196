//! Static assets embedded in the binary, served under content-hashed names with a year-long
//! cache lifetime: a new build changes the names, so browsers never hold a stale file.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct File {
    name: &'static str,
    bytes: &'static [u8],
    mime: &'static str,
}

macro_rules! files {
    ($($name:literal => $mime:literal),* $(,)?) => {
        &[$(File { name: $name, bytes: include_bytes!(concat!("../../assets/", $name)), mime: $mime }),*]
    };
}

static FILES: &[File] = files![
    "app.css" => "text/css; charset=utf-8",
    "app.js" => "text/javascript; charset=utf-8",
    "apidocs.js" => "text/javascript; charset=utf-8",
    "charts.js" => "text/javascript; charset=utf-8",
    "visit.js" => "text/javascript; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "offline.js" => "text/javascript; charset=utf-8",
    "icon-192.png" => "image/png",
    "icon-512.png" => "image/png",
    "vendor/echarts.min.js" => "text/javascript; charset=utf-8",
    "vendor/swagger-ui/swagger-ui-bundle.js" => "text/javascript; charset=utf-8",
    "vendor/swagger-ui/swagger-ui.css" => "text/css; charset=utf-8",
];

struct Table {
    /// logical name → URL path
    urls: HashMap<&'static str, String>,
    /// hashed file name (the last URL segment) → file
    by_hashed: HashMap<String, &'static File>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut urls = HashMap::new();
    let mut by_hashed = HashMap::new();
    for f in FILES {
        // The first 6 bytes of the digest: 12 hex digits.
        let digest = hex::encode(Sha256::digest(f.bytes));
        let hash = digest.get(..12).unwrap_or(&digest);
        let base = f.name.rsplit('/').next().unwrap_or(f.name);
        let (stem, ext) = base.rsplit_once('.').unwrap_or((base, ""));
        let hashed = format!("{stem}.{hash}.{ext}");
        urls.insert(f.name, format!("/assets/{hashed}"));
        by_hashed.insert(hashed, f);
    }
    Table { urls, by_hashed }
});

/// The URL of an embedded asset by its logical name (e.g. `app.css`).
pub fn url(name: &str) -> &'static str {
    TABLE
        .urls
        .get(name)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("unknown asset {name}"))
}

pub async fn serve(Path(file): Path<String>) -> Response {
    match TABLE.by_hashed.get(&file) {
        Some(f) => (
            [
                (header::CONTENT_TYPE, f.mime),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            f.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/favicon.ico`, which browsers ask for on their own: the site icon (SVG), cached for a day.
pub async fn favicon() -> Response {
    match FILES.iter().find(|f| f.name == "favicon.svg") {
        Some(f) => (
            [
                (header::CONTENT_TYPE, f.mime),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            f.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
