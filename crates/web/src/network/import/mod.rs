//! The network's spreadsheet imports: stations and organisations (see `import::engine`).

mod orgs;
mod stations;

/// Stations, found again by township + station name.
pub const STATIONS: stations::Stations = stations::Stations;
/// Organisations, found again by credit code, else registration region + name.
pub const ORGS: orgs::Orgs = orgs::Orgs;
