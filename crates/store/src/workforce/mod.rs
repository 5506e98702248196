//! The workforce: staff and their certificates, training, supervision.

pub mod staff;
pub mod supervision;
pub mod training;
