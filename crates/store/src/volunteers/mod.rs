//! Volunteering (志愿服务): the registry, teams, activities with attendance, hour records and
//! certificates.

pub mod activities;
pub mod hours;
pub mod registry;
pub mod stars;
pub mod teams;
