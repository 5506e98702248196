//! The station network: regions, stations, organisations, coverage, construction targets,
//! indicators, inspections and attachments.

pub mod attachments;
pub mod construction;
pub mod coverage;
pub mod indicators;
pub mod inspections;
pub mod org_links;
pub mod orgs;
pub mod regions;
pub mod station_scope;
pub mod stations;
