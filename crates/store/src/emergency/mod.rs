//! 应急社会工作 (issue 16 item 2): emergency social-work teams with their members (staff and
//! volunteers), incidents with their state timeline, deployments and figures.

pub mod incidents;
pub mod teams;
