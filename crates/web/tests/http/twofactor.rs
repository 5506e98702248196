//! Issue 11 regression tests: twofactor.

#[allow(unused_imports)]
use super::*;
