//! The workforce: staff, certificates, training, supervision.

pub mod staff;
