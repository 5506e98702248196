//! What a capability area contributes to the application: its routes, its part of the OpenAPI
//! document, its menu entries and its spreadsheet importers. `crate::AREAS` lists the areas; nothing else is central.

use axum::Router;
use shegong_domain::Permission;

use crate::http::state::AppState;
use crate::import::engine::Importer;

/// (item key, href, permission needed; `None`: every signed-in user)
pub type MenuEntry = (&'static str, &'static str, Option<Permission>);

/// One group of the left menu. Groups are shown by `rank`, whichever area adds them.
pub struct MenuSection {
    pub rank: u8,
    /// The group's message key, e.g. "menu.group.network".
    pub group: &'static str,
    pub entries: &'static [MenuEntry],
}

/// An area's message catalogue in both languages (`locales/{zh-CN,en}/<file>.toml`).
pub struct Messages {
    pub file: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// `messages!("network")`: the area's two catalogue files, compiled in.
macro_rules! messages {
    ($file:literal) => {
        $crate::http::area::Messages {
            file: $file,
            zh: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/locales/zh-CN/",
                $file,
                ".toml"
            )),
            en: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/locales/en/",
                $file,
                ".toml"
            )),
        }
    };
}
pub(crate) use messages;

pub struct Area {
    /// The area's pages and API operations.
    pub routes: fn() -> Router<AppState>,
    /// The area's API operations, documented (merged into `/api/v1/openapi.json`).
    pub api: fn() -> utoipa::openapi::OpenApi,
    pub menu: &'static [MenuSection],
    pub messages: Messages,
    /// The area's registries that take spreadsheets; `import::flow` routes them.
    pub importers: &'static [&'static dyn Importer],
}
