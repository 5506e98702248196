//! Spreadsheet import of this area's registries (see `crate::import`).
