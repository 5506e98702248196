//! The OpenAPI document (`/api/v1/openapi.json`) and its interactive page (`/api/docs`, Swagger
//! UI served from the binary). The committed `docs/openapi.json` is checked against it by a test.

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use shegong_store::statistics::counters::Dim;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::assets;
use crate::http::auth::Ctx;
use crate::http::render::{Base, Crumb, page};
use crate::ui::i18n::Tr;

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

/// Schemas of the closed code sets, built from the domain's own lists so the document cannot
/// drift from what the parsers accept (for `#[schema(schema_with = …)]` on DTO fields).
pub mod code {
    use shegong_domain::network::org::OrgKind;
    use shegong_domain::network::station::{Mode, Rating, Room, Status, Tier};
    use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};

    pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values))
            .build()
    }

    pub fn tier() -> Object {
        one_of(Tier::ALL.iter().map(|v| v.as_str()))
    }
    pub fn mode() -> Object {
        one_of(Mode::ALL.iter().map(|v| v.as_str()))
    }
    pub fn station_status() -> Object {
        one_of(Status::ALL.iter().map(|v| v.as_str()))
    }
    /// Rooms: each a room code (repeats are dropped).
    pub fn rooms() -> Array {
        ArrayBuilder::new()
            .items(one_of(Room::ALL.iter().map(|v| v.as_str())))
            .build()
    }
    pub fn org_kind() -> Object {
        one_of(OrgKind::ALL.iter().map(|v| v.as_str()))
    }
    /// A link kind, or empty for `other`.
    pub fn org_link_kind() -> Object {
        one_of(
            std::iter::once("").chain(
                shegong_domain::network::org::LinkKind::ALL
                    .iter()
                    .map(|v| v.as_str()),
            ),
        )
    }
    /// `1A`–`5A`, or empty when unrated.
    pub fn rating() -> Object {
        one_of(Rating::ALL.iter().map(|v| v.as_str()))
    }
    /// `active` (the default, also when empty) or `inactive`.
    pub fn org_status() -> Object {
        one_of(["", "active", "inactive"])
    }
    /// A list's order: a key of its whitelist, or `-key` for the reverse.
    pub fn sorts(allowed: &[(&str, &str)]) -> Object {
        let keys: Vec<String> = allowed
            .iter()
            .flat_map(|(k, _)| [k.to_string(), format!("-{k}")])
            .collect();
        one_of(keys.iter().map(String::as_str))
    }
    pub fn station_sort() -> Object {
        sorts(shegong_store::network::stations::SORTS)
    }
    pub fn staff_sort() -> Object {
        sorts(shegong_store::workforce::staff::SORTS)
    }
    pub fn volunteer_sort() -> Object {
        sorts(shegong_store::volunteers::registry::SORTS)
    }
    pub fn project_sort() -> Object {
        sorts(shegong_store::purchase::projects::SORTS)
    }
    pub fn contract_sort() -> Object {
        sorts(shegong_store::purchase::contracts::SORTS)
    }
    pub fn ticket_sort() -> Object {
        sorts(shegong_store::hotline::tickets::SORTS)
    }
    pub fn issue_sort() -> Object {
        sorts(shegong_store::community::SORTS)
    }
    pub fn incident_sort() -> Object {
        sorts(shegong_store::emergency::incidents::SORTS)
    }
    pub fn audit_sort() -> Object {
        sorts(shegong_store::admin::audit::SORTS)
    }
    pub fn org_sort() -> Object {
        sorts(shegong_store::network::orgs::SORTS)
    }
    pub fn outcome() -> Object {
        one_of(["success", "failure", "denied"])
    }
    pub fn stats_level() -> Object {
        one_of(["self", "children"])
    }
}

/// `YYYY-MM`, a month the server accepts (2000–2100).
pub const MONTH_PATTERN: &str = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$";
/// A mainland mobile number (the documented form; landlines are accepted where a field says so).
const MOBILE_PATTERN: &str = "^1[3-9][0-9]{9}$";
/// An NBS region code: 2 (province), 4, 6, 9 or 12 digits.
pub const REGION_PATTERN: &str = "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$";

/// Makes the document tell the truth about what the server answers and accepts, in one place
/// rather than on every `#[utoipa::path]`:
/// - every operation lists its error responses (400/401/403/404/413/415/422) with the shared
///   `Problem` body: authentication comes first everywhere (401; not for the operations open
///   without credentials, documented with an empty security requirement), control characters in the
///   path or query are refused everywhere (422), bodies bring 413/415, ids and regions 404;
/// - paging parameters carry the bounds `PageRequest` applies;
/// - DTOs of modules that do not annotate their own constraints get them here, by schema and
///   property name (and query parameters by path and name), from the parsers' rules.
struct Truth;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

impl Modify for Truth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // The utoipa types are edited as JSON: the rules below are data, not builder calls.
        let Ok(mut doc) = serde_json::to_value(&*openapi) else {
            return;
        };
        add_problem_schema(&mut doc);
        constrain_schemas(&mut doc);
        if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            for (path, item) in paths.iter_mut() {
                for method in METHODS {
                    if let Some(op) = item.get_mut(method) {
                        if method != "get" {
                            add_idempotency_key(op);
                        }
                        constrain_params(path, op);
                        add_error_responses(path, op);
                    }
                }
            }
        }
        match serde_json::from_value(doc) {
            Ok(truthful) => *openapi = truthful,
            // Cannot happen with the shapes above (a test compares the committed document).
            Err(e) => tracing::error!(error = %e, "OpenAPI modifier produced an invalid document"),
        }
    }
}

fn add_problem_schema(doc: &mut Value) {
    // utoipa writes `components.schemas` for every document with a schema, as this API's has.
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    schemas.insert("Problem".into(), json!({
        "type": "object",
        "description": "An error (RFC 9457 style), served as `application/problem+json`. The title and \
                        messages are in the language of `Accept-Language`.",
        "required": ["code", "status", "title", "errors"],
        "properties": {
            "code": {"type": "string", "description": "Stable machine code, e.g. `unauthenticated`, `not_found`, `invalid`, `too_large`, `bad_request`, `unsupported_media`."},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "title": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemField"}},
            "request_id": {"type": ["string", "null"]}
        }
    }));
    schemas.insert("ProblemField".into(), json!({
        "type": "object",
        "description": "One refused field.",
        "required": ["field", "code", "message"],
        "properties": {
            "field": {"type": "string", "description": "The field: a body property (`members[0].name` inside arrays), a query parameter, `path`, `body` or `idempotency_key`."},
            "code": {"type": "string", "description": "Stable message key, e.g. `form.required`, `form.too_long`, `input.control_character`."},
            "message": {"type": "string"}
        }
    }));
}

/// Every write takes an `Idempotency-Key` (`http::replay`).
fn add_idempotency_key(op: &mut Value) {
    let params = &mut op["parameters"];
    if !params.is_array() {
        *params = json!([]);
    }
    if let Some(list) = params.as_array_mut()
        && !list.iter().any(|p| p["name"] == "Idempotency-Key")
    {
        list.push(json!({
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "Makes a retry safe: the first successful answer to this request is kept for 24 hours \
                            and sent again (header `Idempotent-Replayed: true`) to a retry with the same key, \
                            method, path and body, instead of writing twice. The same key on a different \
                            request answers 422 on `idempotency_key`.",
            "schema": {"type": "string"}
        }));
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses.entry("409").or_insert_with(|| {
            json!({
                "description": "A request with the same `Idempotency-Key` is still being processed (code \
                                `idempotency.in_progress`).",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            })
        });
    }
}

fn add_error_responses(path: &str, op: &mut Value) {
    let has_body = op.get("requestBody").is_some();
    let has_query = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let has_region = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["name"] == "region"));
    // An operation open without credentials has an empty security requirement (`[{}]`).
    let open = op["security"].as_array().is_some_and(|s| {
        s.iter()
            .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
    });
    let mut errors: Vec<(&str, &str)> = Vec::new();
    if has_body || has_query {
        errors.push(("400", "Malformed query string or JSON body."));
    }
    if !open {
        errors.push((
            "401",
            "Missing, invalid or revoked credentials (checked before anything else).",
        ));
        errors.push(("403", "The account's role lacks the permission."));
    }
    // Records named by a path id, a region or a body's ids answer 404 outside the scope.
    if path.contains('{') || has_region || has_body {
        errors.push(("404", "Unknown, or outside the caller's data scope."));
    }
    if has_body {
        errors.push(("413", "Body over the configured limit."));
        errors.push(("415", "Body is not `application/json`."));
    }
    errors.push((
        "422",
        "Invalid fields, each named in `errors` (also control characters in the path, query or \
         body: `input.control_character`).",
    ));
    let responses = &mut op["responses"];
    for (status, description) in errors {
        let r = &mut responses[status];
        if !r.is_object() {
            *r = json!({ "description": description });
        }
        // An error body documented elsewhere (e.g. the 409 candidates) stays as it is.
        if r.get("content").is_none() {
            r["content"] = json!({
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            });
        }
    }
}

/// Merge `patch` into a schema (a property, a parameter's schema). A nullable schema
/// (`"type": [T, "null"]`) keeps `null` among its enum values.
fn merge(schema: &mut Value, patch: &Value) {
    let nullable = schema["type"]
        .as_array()
        .is_some_and(|t| t.iter().any(|x| x == "null"));
    if let (Some(s), Some(p)) = (schema.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            let mut v = v.clone();
            if k == "enum"
                && nullable
                && let Some(values) = v.as_array_mut()
            {
                values.push(Value::Null);
            }
            s.insert(k.clone(), v);
        }
    }
}

fn codes<'a>(values: impl IntoIterator<Item = &'a str>) -> Value {
    json!({ "enum": values.into_iter().collect::<Vec<_>>() })
}

fn text(min: usize, max: usize) -> Value {
    if min == 0 {
        json!({ "maxLength": max })
    } else {
        json!({ "minLength": min, "maxLength": max })
    }
}

fn date() -> Value {
    json!({ "format": "date" })
}

fn int_range(min: i64, max: i64) -> Value {
    json!({ "minimum": min, "maximum": max })
}

/// A rule: (schema, property, JSON Schema keywords merged into the property).
type SchemaRule = (&'static str, &'static str, Value);

/// Body DTOs of the people and workforce modules, from their parsers (`residents::parse`,
/// `services::parse_service`, `staff::parse`, `staff::reveal_values`).
fn schema_rules() -> Vec<SchemaRule> {
    let mut rules = people_schema_rules();
    rules.extend(workforce_schema_rules());
    rules
}

fn id_types() -> Value {
    use shegong_domain::people::identity::IdType;
    codes(IdType::ALL.iter().map(|v| v.as_str()))
}

fn sexes() -> Value {
    use shegong_domain::people::identity::Sex;
    codes(Sex::ALL.iter().map(|v| v.as_str()))
}

fn region() -> Value {
    json!({ "pattern": REGION_PATTERN })
}

/// Residents, cases and services (`residents::parse`, `services::parse_service`).
fn people_schema_rules() -> Vec<SchemaRule> {
    use shegong_domain::network::station::ServiceDomain;
    use shegong_domain::people::{LegalBasis, RiskTier, ServiceKind, VisitMethod};
    vec![
        ("ResidentBody", "name", text(1, 50)),
        ("ResidentBody", "id_type", id_types()),
        ("ResidentBody", "sex", sexes()),
        ("ResidentBody", "birth_date", date()),
        ("ResidentBody", "ethnicity", text(0, 20)),
        ("ResidentBody", "region", region()),
        ("ResidentBody", "address", text(0, 200)),
        (
            "ResidentBody",
            "phone",
            json!({ "pattern": MOBILE_PATTERN }),
        ),
        ("ResidentBody", "guardian_name", text(0, 50)),
        (
            "ResidentBody",
            "guardian_phone",
            json!({ "pattern": MOBILE_PATTERN }),
        ),
        (
            "ResidentBody",
            "risk_tier",
            codes(RiskTier::ALL.iter().map(|v| v.as_str())),
        ),
        (
            "ResidentBody",
            "legal_basis",
            codes(LegalBasis::ALL.iter().map(|v| v.as_str())),
        ),
        ("ResidentBody", "consent_on", date()),
        ("OpenCaseBody", "problem", json!({ "minLength": 1 })),
        (
            "ServiceBody",
            "kind",
            codes(ServiceKind::ALL.iter().map(|v| v.as_str())),
        ),
        (
            "ServiceBody",
            "domain",
            codes(ServiceDomain::ALL.iter().map(|v| v.as_str())),
        ),
        ("ServiceBody", "title", text(0, 100)),
        ("ServiceBody", "served_on", date()),
        (
            "ServiceBody",
            "started_at",
            json!({ "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$" }),
        ),
        ("ServiceBody", "duration_minutes", int_range(1, 1440)),
        ("ServiceBody", "person_times", int_range(1, 100_000)),
        (
            "ServiceBody",
            "method",
            codes(VisitMethod::ALL.iter().map(|v| v.as_str())),
        ),
        ("ServiceBody", "location", text(0, 200)),
        (
            "ServiceBody",
            "value",
            json!({ "pattern": "^[0-9]{1,12}(\\.[0-9]{1,2})?$" }),
        ),
        ("ServiceBody", "workers", text(1, 200)),
        ("ServiceBody", "notes", text(0, 5000)),
    ]
}

/// Staff, identity reveals and trainings (`staff::parse`, `staff::reveal_values`,
/// `staff::add_training`).
fn workforce_schema_rules() -> Vec<SchemaRule> {
    use shegong_domain::workforce::{Education, Employment, Sector, StaffRole};
    vec![
        ("StaffBody", "name", text(1, 50)),
        ("StaffBody", "id_type", id_types()),
        ("StaffBody", "id_number", text(1, 20)),
        (
            "StaffBody",
            "mobile",
            json!({ "pattern": "^(|1[3-9][0-9]{9})$" }),
        ),
        ("StaffBody", "sex", {
            let mut v = sexes();
            if let Some(values) = v.get_mut("enum").and_then(Value::as_array_mut) {
                values.push(json!(""));
            }
            v
        }),
        (
            "StaffBody",
            "birth_date",
            json!({ "pattern": "^(|[0-9]{4}-[0-9]{2}-[0-9]{2})$" }),
        ),
        (
            "StaffBody",
            "education",
            codes(Education::ALL.iter().map(|v| v.as_str())),
        ),
        ("StaffBody", "major", text(0, 50)),
        (
            "StaffBody",
            "role",
            codes(StaffRole::ALL.iter().map(|v| v.as_str())),
        ),
        (
            "StaffBody",
            "employment_mode",
            codes(Employment::ALL.iter().map(|v| v.as_str())),
        ),
        (
            "StaffBody",
            "sector",
            codes(std::iter::once("").chain(Sector::ALL.iter().map(|v| v.as_str()))),
        ),
        ("StaffBody", "region_code", region()),
        ("StaffBody", "joined_on", date()),
        ("RevealBody", "reason", text(2, 200)),
        ("VolunteerRevealBody", "reason", text(2, 200)),
        ("UploadBody", "filename", text(1, 255)),
        ("CommitBody", "mode", codes(["valid", "all"])),
        // `staff::add_training` (store): 1–2000 tenths of an hour.
        (
            "TrainingDto",
            "hours",
            json!({ "minimum": 0.1, "maximum": 200, "multipleOf": 0.1 }),
        ),
        ("TrainingDto", "course", text(1, 100)),
        ("TrainingDto", "provider", text(0, 100)),
        ("TrainingDto", "held_on", date()),
    ]
}

/// Query (and header) parameters of the same modules, by path and name; `page`/`per_page`
/// everywhere.
fn param_rules(path: &str, name: &str) -> Option<Value> {
    use crate::statistics::open_data::Family;
    use shegong_domain::Role;
    use shegong_domain::network::station::ServiceDomain;
    use shegong_domain::people::{CaseStage, RiskTier, ServiceKind};
    use shegong_domain::workforce::StaffRole;
    let stats_by = |family: Family| codes(family.dims().iter().map(|d| Dim::as_str(*d)));
    Some(match (path, name) {
        (_, "page") => json!({ "minimum": 1 }),
        (_, "per_page") => int_range(1, 200),
        // `idempotency::parse_key`: visible ASCII, at most 100 bytes.
        (_, "Idempotency-Key") => {
            json!({ "minLength": 1, "maxLength": 100, "pattern": "^[!-~]+$" })
        }
        ("/api/v1/residents" | "/api/v1/visits/due", "tier") => {
            codes(RiskTier::ALL.iter().map(|v| v.as_str()))
        }
        ("/api/v1/residents" | "/api/v1/visits/due", "status") => {
            codes(["active", "moved_out", "deceased", "merged", "all"])
        }
        ("/api/v1/residents" | "/api/v1/visits/due", "due") => codes(["overdue", "today", "week"]),
        ("/api/v1/residents" | "/api/v1/visits/due" | "/api/v1/cases", "mine") => codes(["me"]),
        ("/api/v1/cases", "state") => codes(["open", "pending"]),
        ("/api/v1/cases", "stage") => codes(CaseStage::ALL.iter().map(|v| v.as_str())),
        ("/api/v1/services", "kind") => codes(ServiceKind::ALL.iter().map(|v| v.as_str())),
        ("/api/v1/services", "domain") => codes(ServiceDomain::ALL.iter().map(|v| v.as_str())),
        ("/api/v1/services", "from" | "to") => date(),
        ("/api/v1/staff", "role") => codes(StaffRole::ALL.iter().map(|v| v.as_str())),
        ("/api/v1/staff", "status") => codes(["active", "left"]),
        ("/api/v1/staff", "certified") => codes(["yes", "no"]),
        ("/api/v1/users", "role") => codes(Role::ALL.iter().map(|v| v.as_str())),
        ("/api/v1/users", "status") => codes(["active", "disabled"]),
        ("/api/v1/users", "sort") => codes(["username", "created", "last_login"]),
        // One query struct serves the four families; each has its own dimensions.
        ("/api/v1/stats/services" | "/api/v1/stats/services.csv", "by") => {
            stats_by(Family::Services)
        }
        ("/api/v1/stats/people" | "/api/v1/stats/people.csv", "by") => stats_by(Family::People),
        ("/api/v1/stats/workforce" | "/api/v1/stats/workforce.csv", "by") => {
            stats_by(Family::Workforce)
        }
        ("/api/v1/stats/community" | "/api/v1/stats/community.csv", "by") => {
            stats_by(Family::Community)
        }
        _ => return None,
    })
}

fn constrain_schemas(doc: &mut Value) {
    for (schema, property, patch) in schema_rules() {
        let at = format!("/components/schemas/{schema}/properties/{property}");
        // A rule for a property that no longer exists is dropped, not invented.
        if let Some(target) = doc.pointer_mut(&at).filter(|t| t.is_object()) {
            merge(target, &patch);
        }
    }
}

fn constrain_params(path: &str, op: &mut Value) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params {
        let name = p["name"].as_str().unwrap_or_default().to_owned();
        if (p["in"] == "query" || p["in"] == "header")
            && let Some(patch) = param_rules(path, &name)
        {
            merge(&mut p["schema"], &patch);
        }
    }
}

/// The document: the shared header, every area's operations, then the modifiers over the whole.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for area in crate::AREAS {
        doc.merge((area.api)());
    }
    BearerAuth.modify(&mut doc);
    Truth.modify(&mut doc);
    doc
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
