//! Building blocks of pages and exports: translations, form checks, list paging and filters,
//! Excel workbooks.

pub mod csv;
pub mod excel;
pub mod forms;
pub mod i18n;
pub mod list;
pub mod number;
pub mod print;
pub mod xlsx;
