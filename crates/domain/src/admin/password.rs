//! Password policy and hashing (argon2id with a per-password salt).
//! Hashing is CPU-heavy: callers on an async runtime run it in `spawn_blocking`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde::Deserialize;

use crate::FieldError;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// How many of the four classes (lower, upper, digit, symbol) a password must use.
    pub min_classes: usize,
    /// Days after which a password must be changed (等保: periodic change). 0 = never.
    pub max_age_days: i64,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 10,
            min_classes: 3,
            max_age_days: 90,
        }
    }
}

impl PasswordPolicy {
    pub fn check(&self, password: &str, username: &str) -> Result<(), FieldError> {
        if password.chars().count() < self.min_length {
            return Err(FieldError::new("password", "password.too_short"));
        }
        if password.chars().count() > 128 {
            return Err(FieldError::new("password", "password.too_long"));
        }
        let classes = [
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.iter().filter(|&&b| b).count() < self.min_classes {
            return Err(FieldError::new("password", "password.too_simple"));
        }
        if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
            return Err(FieldError::new("password", "password.contains_username"));
        }
        Ok(())
    }
}

#[allow(clippy::expect_used)] // Constant parameters, within argon2's limits.
fn hasher() -> Argon2<'static> {
    // OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[allow(clippy::expect_used)] // A 16-byte salt always encodes; with valid parameters hashing cannot fail.
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16-byte salt encodes");
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid params cannot fail")
        .to_string()
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A random temporary password that satisfies the default policy: 16 characters from an
/// alphabet without look-alikes, with each class present.
pub fn temporary() -> String {
    const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"#%+=@";
    let mut rng = rand::rng();
    // Every set is a non-empty constant, so `choose` always picks one.
    let mut pick = |set: &[u8]| set.choose(&mut rng).map_or('#', |&b| char::from(b));
    let mut out: Vec<char> = vec![pick(LOWER), pick(UPPER), pick(DIGIT), pick(SYMBOL)];
    let all: Vec<u8> = [LOWER, UPPER, DIGIT].concat();
    while out.len() < 16 {
        out.push(pick(&all));
    }
    // Move the class characters away from the front.
    let mut rng = rand::rng();
    for i in (1..out.len()).rev() {
        out.swap(i, rng.random_range(0..=i));
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_the_field_and_reason() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check("Short1!", "u").unwrap_err().code,
            "password.too_short"
        );
        assert_eq!(
            p.check("alllowercaseletters", "u").unwrap_err().code,
            "password.too_simple"
        );
        assert_eq!(
            p.check("Zhang.San-2024", "zhangsan").map_err(|e| e.code),
            Ok(())
        );
        assert_eq!(
            p.check("Zhangsan-2024", "zhangsan").unwrap_err().code,
            "password.contains_username"
        );
        assert_eq!(p.check("short", "u").unwrap_err().field, "password");
        assert!(p.check("Good-Pass-2024", "wang").is_ok());
    }

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let a = hash("Secret-Pass-1");
        let b = hash("Secret-Pass-1");
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("Secret-Pass-1", &a));
        assert!(!verify("Secret-Pass-2", &a));
        assert!(!verify("Secret-Pass-1", "not a hash"));
    }

    #[test]
    fn temporary_passwords_meet_the_default_policy() {
        for _ in 0..50 {
            let t = temporary();
            assert_eq!(t.len(), 16);
            PasswordPolicy::default().check(&t, "someone").unwrap();
        }
    }
}
