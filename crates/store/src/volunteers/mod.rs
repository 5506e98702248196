//! Volunteering (志愿服务): the volunteer registry.

pub mod registry;
pub mod teams;
