//! Tickets exported from a 12345 system (工单导出表), through the shared import engine: each row
//! is a 12345 dispatch with its external number, received time, caller, category, request,
//! station and state. A number already on file in scope mirrors its state instead of being
//! taken twice; nothing is dispatched back to 12345. Phones are masked in the preview.

use std::collections::HashMap;

use shegong_domain::hotline::{Category, Channel, Urgency};
use shegong_domain::people::identity::mask;
use shegong_store::hotline::tickets::{self as tk, TicketInput};
use shegong_store::network::stations;
use shegong_store::{Conn, PageRequest, StoreResult};

use crate::http::error::WebResult;
use crate::import::engine::{Action, BoxFuture, CellMessage, Change, Importer, Job, Planned};
use crate::import::schema::{CellError, Kind, Row, Schema, col};
use crate::import::sheet;

const CATEGORIES: &[(&str, &[&str])] = &[
    ("consult", &["咨询", "咨询类"]),
    ("help", &["求助", "求助类", "求决"]),
    ("complaint", &["投诉", "投诉类", "举报"]),
    ("suggestion", &["建议", "建议类"]),
    ("emergency", &["紧急", "紧急类"]),
    ("crisis", &["危机", "危机干预"]),
];

static COLUMNS: Schema = Schema {
    name_zh: "12345工单",
    name_en: "12345 tickets",
    columns: &[
        col!(
            "external_no",
            "工单编号",
            "Ticket number",
            ["工单号", "编号", "受理编号"],
            true,
            Kind::Text { max_chars: 40 },
            "重复的工单编号只更新办理状态",
            "A number on file only updates its state"
        ),
        col!(
            "received_at",
            "来电时间",
            "Received at",
            ["受理时间", "来件时间", "派单时间"],
            false,
            Kind::Text { max_chars: 30 },
            "YYYY-MM-DD HH:MM，不得晚于当前时间",
            "YYYY-MM-DD HH:MM, not in the future"
        ),
        col!(
            "caller_name",
            "来电人",
            "Caller",
            ["诉求人", "来电人姓名", "市民姓名"],
            false,
            Kind::Text { max_chars: 50 },
            "",
            ""
        ),
        col!(
            "caller_phone",
            "联系电话",
            "Phone",
            ["来电号码", "电话", "联系方式"],
            false,
            Kind::Text { max_chars: 30 },
            "",
            ""
        ),
        col!(
            "category",
            "诉求类别",
            "Category",
            ["诉求类型", "工单类型", "类别"],
            true,
            Kind::Choice(CATEGORIES),
            "",
            ""
        ),
        col!(
            "content",
            "诉求内容",
            "Request",
            ["内容", "诉求描述", "来电内容"],
            true,
            Kind::Text { max_chars: 4000 },
            "",
            ""
        ),
        col!(
            "station",
            "所属区域/街道",
            "Station or street",
            ["所属街道", "所属区域", "承办单位", "社工站"],
            true,
            Kind::Text { max_chars: 100 },
            "社工站名称，或唯一对应一个社工站的街道名称",
            "A station's name, or a street with one station"
        ),
        col!(
            "external_state",
            "办理状态",
            "State",
            ["工单状态", "状态"],
            false,
            Kind::Text { max_chars: 40 },
            "",
            ""
        ),
    ],
};

pub struct Tickets12345;

/// 12345 dispatches, one per external number.
pub const TICKETS_12345: Tickets12345 = Tickets12345;

impl Importer for Tickets12345 {
    fn kind(&self) -> &'static str {
        "tickets_12345"
    }

    fn masked_fields(&self) -> &'static [&'static str] {
        &["caller_phone"]
    }

    fn list_path(&self) -> &'static str {
        "/tickets"
    }

    fn title_key(&self) -> &'static str {
        "menu.tickets"
    }

    fn audit_entity(&self) -> &'static str {
        "ticket"
    }

    fn schema(&self) -> &'static Schema {
        &COLUMNS
    }

    fn plan<'a>(
        &'a self,
        job: &'a Job<'a>,
        conn: &'a mut Conn,
        rows: Vec<Row>,
    ) -> BoxFuture<'a, WebResult<Vec<Planned>>> {
        Box::pin(async move {
            let stations = StationNames::load(conn, job).await?;
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(plan_row(job, conn, &stations, &mut seen, row).await?);
            }
            Ok(out)
        })
    }
}

/// Stations in scope by normalised name: (id, name).
struct StationNames(Vec<(String, String)>);

impl StationNames {
    async fn load(conn: &mut Conn, job: &Job<'_>) -> WebResult<Self> {
        let all = PageRequest {
            page: 1,
            per_page: 100_000,
        };
        let list = stations::list(conn, &job.scope(), &stations::Filter::default(), all).await?;
        Ok(Self(
            list.items
                .into_iter()
                .map(|s| (s.id, sheet::normalize(&s.name)))
                .collect(),
        ))
    }

    /// The station named, or the only one whose name contains the cell (a street's station).
    fn resolve(&self, cell: &str) -> Result<String, &'static str> {
        let n = sheet::normalize(cell);
        if let Some((id, _)) = self.0.iter().find(|(_, name)| *name == n) {
            return Ok(id.clone());
        }
        let hits: Vec<&String> = self
            .0
            .iter()
            .filter(|(_, name)| !n.is_empty() && name.contains(&n))
            .map(|(id, _)| id)
            .collect();
        match hits.as_slice() {
            [one] => Ok((*one).clone()),
            [_, ..] => Err("import.station_ambiguous"),
            [] => Err("import.station_not_found"),
        }
    }
}

fn shown(e: &CellError) -> String {
    if e.column == "caller_phone" {
        mask(&e.raw)
    } else {
        e.raw.clone()
    }
}

async fn plan_row(
    job: &Job<'_>,
    conn: &mut Conn,
    stations: &StationNames,
    seen: &mut HashMap<String, usize>,
    row: &Row,
) -> WebResult<Planned> {
    let cells = job.cells(&COLUMNS);
    let mut errors: Vec<CellMessage> = cells.parse_errors(row, shown);
    let no = row.text("external_no").trim().to_owned();
    let label = format!("{} {}", no, row.text("caller_name"));
    let invalid = |errors| {
        Ok(Planned::new(
            row.number,
            label.clone(),
            Action::Invalid,
            errors,
            None,
        ))
    };
    if let Some(first) = seen.get(&no) {
        errors.push(cells.say(
            "external_no",
            "ticket.external_duplicate_in_file",
            "",
            &first.to_string(),
        ));
        return invalid(errors);
    }
    seen.insert(no.clone(), row.number);
    let state = row.text("external_state").trim().to_owned();
    if let Some(t) = tk::by_external(conn, &job.scope(), &no).await? {
        if state.is_empty() || state == t.external_state {
            return Ok(Planned::new(
                row.number,
                label.clone(),
                Action::Unchanged,
                vec![],
                None,
            ));
        }
        let change = TicketChange::Mirror { id: t.id, state };
        return Ok(Planned::new(
            row.number,
            label.clone(),
            Action::Update,
            vec![],
            Some(Box::new(change)),
        ));
    }
    let raw_time = row.text("received_at");
    let received_at = if raw_time.trim().is_empty() {
        None
    } else {
        match super::parse_time(&raw_time) {
            Some(at) if at <= job.now => Some(at),
            Some(_) => {
                errors.push(cells.say("received_at", "ticket.received_in_future", &raw_time, ""));
                None
            }
            None => {
                errors.push(cells.say("received_at", "ticket.time_invalid", &raw_time, ""));
                None
            }
        }
    };
    let station_cell = row.text("station");
    let station_id = match stations.resolve(&station_cell) {
        Ok(id) => id,
        Err(code) => {
            errors.push(cells.say("station", code, &station_cell, ""));
            String::new()
        }
    };
    let category = row.code("category").and_then(|c| Category::parse(c).ok());
    let (Some(category), true) = (category, errors.is_empty()) else {
        return invalid(errors);
    };
    let phone = row.text("caller_phone");
    let input = TicketInput {
        station_id,
        hotline_id: None,
        channel: Channel::Dispatch12345,
        received_at,
        caller_name: row.text("caller_name"),
        caller_phone: Some(phone).filter(|p| !p.trim().is_empty()),
        caller_id_number: None,
        category,
        urgency: if matches!(category, Category::Emergency | Category::Crisis) {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
        content: row.text("content"),
        assignee_user_id: None,
        external_no: Some(no),
        external_state: state,
    };
    Ok(Planned::new(
        row.number,
        label,
        Action::Create,
        vec![],
        Some(Box::new(TicketChange::Create(Box::new(input)))),
    ))
}

enum TicketChange {
    Create(Box<TicketInput>),
    Mirror { id: String, state: String },
}

impl Change for TicketChange {
    fn apply<'a>(&'a self, job: &'a Job<'a>, tx: &'a mut Conn) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let scope = job.scope();
            let by = job.user.user.username.clone();
            match self {
                TicketChange::Create(input) => {
                    let sla = job.state.config.hotline.sla(input.category);
                    tk::create(tx, &scope, &job.state.keys, input, sla, &by, job.now).await?;
                }
                TicketChange::Mirror { id, state } => {
                    tk::mirror_external(tx, &scope, id, state, &by, job.now).await?;
                }
            }
            Ok(())
        })
    }
}
