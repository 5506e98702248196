//! Organisation scope on people, cases and services (issue 11 item 2).

#[allow(unused_imports)]
use super::*;
