//! 供需对接: needs, the resources read from the records, matches between them, and the three
//! lists of a community (需求/资源/服务) with the township's approval.
//!
//! Visibility: a need and its matches belong to the need's community (or township) and station,
//! as the 急难愁盼 ledger's issues do. A resource is seen by readers whose scope it serves: it lies
//! inside the scope, or the scope lies inside its region (a county's contract serves a township).

pub mod lists;
pub mod matches;
pub mod needs;
pub mod resources;
