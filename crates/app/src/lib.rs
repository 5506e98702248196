//! What the `shegong` binary does beyond calling the other crates, kept in a library so its
//! tests can reach it: the demo data seeded by `serve --demo`.

pub mod demo;
