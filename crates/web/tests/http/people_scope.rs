//! Issue 11 regression tests: people_scope.

#[allow(unused_imports)]
use super::*;
