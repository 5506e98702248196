//! Issue 11 regression tests: hardening.

#[allow(unused_imports)]
use super::*;
