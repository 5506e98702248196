//! Issue 11 regression tests: uploads.

#[allow(unused_imports)]
use super::*;
