//! What spreadsheet imports need from the database: the staging table that holds an uploaded
//! sheet between its preview and its commit (`staging`), and look-ups that answer for every row
//! of a sheet at once (`lookups`).

pub mod lookups;
mod staging;

pub use staging::{
    Batch, Remembered, claim, discard, exists, finish, remember, remembered, set_mapping, stage,
    staged, staged_shown,
};
