//! A user's data scope: a region subtree, plus an organisation where the role needs one.
//!
//! The store turns a scope into an index-friendly range condition on region codes
//! (`region_code >= $lo AND region_code < $hi`), so every scoped query can use an index.

use serde::Serialize;
use uuid::Uuid;

use crate::FieldError;
use crate::network::region::{RegionCode, subtree_range};

/// The region scope of the whole country. Accepted spellings on input: `CN`, `000000`, empty.
pub const NATIONAL: &str = "CN";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// `None` is the whole country.
    pub region: Option<RegionCode>,
    /// When set, only records of this organisation are in scope.
    pub org: Option<Uuid>,
}

impl Scope {
    pub fn national() -> Self {
        Self {
            region: None,
            org: None,
        }
    }

    pub fn region(code: RegionCode) -> Self {
        Self {
            region: Some(code),
            org: None,
        }
    }

    /// Parse a region given on input, where `CN`/`000000`/empty mean the whole country.
    pub fn parse_region(s: &str) -> Result<Option<RegionCode>, FieldError> {
        match s.trim() {
            "" | NATIONAL | "000000" => Ok(None),
            other => RegionCode::parse(other).map(Some),
        }
    }

    /// The region prefix: empty for the whole country.
    pub fn prefix(&self) -> &str {
        self.region.as_ref().map(|r| r.as_str()).unwrap_or("")
    }

    /// The stored form of the region: a code, or `CN`.
    pub fn region_key(&self) -> &str {
        self.region.as_ref().map(|r| r.as_str()).unwrap_or(NATIONAL)
    }

    /// `[lo, hi)` over region codes.
    pub fn range(&self) -> (String, String) {
        subtree_range(self.prefix())
    }

    pub fn contains_region(&self, code: &str) -> bool {
        code.starts_with(self.prefix())
    }

    /// Whether `inner` lies wholly inside this scope (used when granting scopes).
    pub fn covers(&self, inner: &Scope) -> bool {
        let region_ok = match &inner.region {
            Some(r) => self.contains_region(r.as_str()),
            None => self.region.is_none(),
        };
        let org_ok = match self.org {
            None => true,
            Some(o) => inner.org == Some(o),
        };
        region_ok && org_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Scope {
        Scope {
            region: Scope::parse_region(s).unwrap(),
            org: None,
        }
    }

    #[test]
    fn national_scope_contains_everything() {
        let n = scope("CN");
        assert!(n.contains_region("43"));
        assert!(n.covers(&scope("430203")));
        assert!(n.covers(&Scope::national()));
        assert_eq!(n.region_key(), "CN");
    }

    #[test]
    fn county_scope_covers_only_its_subtree() {
        let county = scope("430203");
        assert!(county.contains_region("430203001"));
        assert!(!county.contains_region("430204001"));
        assert!(county.covers(&scope("430203001")));
        assert!(!county.covers(&scope("4302")));
        assert!(!county.covers(&Scope::national()));
    }

    #[test]
    fn org_scope_only_covers_the_same_org() {
        let o = Uuid::now_v7();
        let with_org = Scope {
            region: None,
            org: Some(o),
        };
        assert!(!with_org.covers(&scope("43")));
        assert!(with_org.covers(&Scope {
            region: Scope::parse_region("43").unwrap(),
            org: Some(o)
        }));
    }
}
