//! The station network: the region tree, stations and the organisations that run them.

pub mod org;
pub mod region;
pub mod station;
