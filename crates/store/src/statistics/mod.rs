//! Statistics: counters maintained with every write, read by the dashboards.

pub mod counters;
