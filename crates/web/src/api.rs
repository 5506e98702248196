//! The OpenAPI document (`/api/v1/openapi.json`) and its interactive page (`/api/docs`, Swagger
//! UI served from the binary). The committed `docs/openapi.json` is checked against it by a test.

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::auth::Ctx;
use crate::i18n::Tr;
use crate::render::{Base, Crumb, page};
use crate::{
    account, assets, audit, casework, coverage, inspections, orgs, regions, residents, staff,
    stations, statistics, users,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shegong API",
        description = "社工站信息平台 JSON API. Authenticate with `Authorization: Bearer <token>` \
                       (create a token on your account page or with `shegong token create`). \
                       Every list is limited to the caller's data scope; records outside it answer 404. \
                       Errors are JSON problem bodies with a stable `code` and a message in the \
                       language of `Accept-Language` (zh-CN by default, or en)."
    ),
    paths(
        account::api_me,
        regions::api_search,
        regions::api_get,
        regions::api_children,
        users::api_list,
        audit::api_list,
        stations::api_list,
        stations::api_get,
        stations::api_create,
        stations::api_update,
        stations::api_progress,
        stations::api_report,
        orgs::api_list,
        orgs::api_get,
        orgs::api_create,
        orgs::api_update,
        coverage::api_coverage,
        inspections::api_list,
        staff::api_list,
        staff::api_get,
        staff::api_create,
        staff::api_reveal,
        staff::api_trainings,
        staff::api_add_training,
        staff::api_supervision,
        residents::api_list,
        residents::api_get,
        residents::api_create,
        residents::api_due,
        casework::api_cases,
        casework::api_case,
        casework::api_open_case,
        casework::api_services,
        casework::api_service,
        casework::api_record_service,
        statistics::api_services,
        statistics::api_services_csv,
        statistics::api_people,
        statistics::api_people_csv,
        statistics::api_workforce,
        statistics::api_workforce_csv,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "account", description = "The signed-in account"),
        (name = "regions", description = "Administrative divisions (NBS 2023)"),
        (name = "users", description = "Accounts (account managers)"),
        (name = "audit", description = "Audit log (auditors)"),
        (name = "stations", description = "Township social work stations: registry, progress, coverage, inspections"),
        (name = "organizations", description = "Social work agencies and other organisations"),
        (name = "workforce", description = "Social workers, certificates, training, supervision"),
        (name = "statistics", description = "Open data: figures from the maintained counters, as JSON or CSV"),
        (name = "people", description = "People served (一人一档), cases, service records and visits due"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

#[derive(Template)]
#[template(path = "apidocs.html")]
struct DocsPage {
    t: Tr,
    base: Base,
    swagger_css: &'static str,
    swagger_js: &'static str,
    init_js: &'static str,
}

pub async fn docs_page(ctx: Ctx) -> Response {
    let t = ctx.tr();
    page(
        StatusCode::OK,
        &DocsPage {
            t,
            base: Base::new(
                &ctx,
                t.get("menu.api_docs"),
                vec![Crumb::here(t.get("menu.api_docs"))],
            ),
            swagger_css: assets::url("vendor/swagger-ui/swagger-ui.css"),
            swagger_js: assets::url("vendor/swagger-ui/swagger-ui-bundle.js"),
            init_js: assets::url("apidocs.js"),
        },
    )
}
