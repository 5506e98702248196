//! Protection of sensitive fields (identity numbers, mobiles; later health and disability data):
//! authenticated encryption at rest plus a keyed hash for exact lookup and duplicate detection.
//!
//! - Ciphertext format: `v1:<key id>:<hex(nonce ‖ ciphertext ‖ tag)>`; the key id names which key
//!   of the ring sealed it, so keys rotate without downtime: a new primary key seals new values,
//!   older keys still open old ones until `shegong keys reencrypt` has rewritten them.
//! - AES-256-GCM by default; SM4-GCM (GB/T 32907 block cipher in GCM mode) for deployments that
//!   must use 国密 algorithms. The lookup hash is HMAC-SHA256, or HMAC-SM3 with SM4.
//! - The field name is bound in as associated data, so a ciphertext cannot be moved into
//!   another column undetected.

use std::collections::BTreeMap;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};

type Sm4Gcm = AesGcm<sm4::Sm4, aes_gcm::aes::cipher::consts::U12>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    #[serde(rename = "aes-256-gcm")]
    Aes256Gcm,
    #[serde(rename = "sm4-gcm")]
    Sm4Gcm,
}

impl Algorithm {
    fn key_len(self) -> usize {
        match self {
            Algorithm::Aes256Gcm => 32,
            Algorithm::Sm4Gcm => 16,
        }
    }
}

/// One key of the ring, as configured (hex-encoded material).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeySpec {
    /// Short identifier written into every ciphertext (letters, digits, '-').
    pub id: String,
    pub algorithm: Algorithm,
    pub key: String,
}

/// The key file / configuration section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRingSpec {
    /// The key that seals new values.
    pub primary: String,
    pub keys: Vec<KeySpec>,
    /// Key of the lookup hash (hex). Never change it: no command recomputes the stored hashes,
    /// so searches and duplicate checks by identity number would stop finding existing
    /// records, and the server refuses to start (`keycheck` records its fingerprint).
    pub hash_key: String,
    /// Hash algorithm follows the primary key's family: HMAC-SM3 with SM4, else HMAC-SHA256.
    #[serde(default)]
    pub hash_sm3: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("key ring: {0}")]
    Config(String),
    #[error("cannot open a sealed value (unknown key or tampered data)")]
    Open,
}

enum Cipher {
    Aes(Box<Aes256Gcm>),
    Sm4(Box<Sm4Gcm>),
}

impl Cipher {
    // GCM refuses only messages over 64 GiB; sealed values are fields and uploads within the
    // body limit, so a refusal is a bug worth a panic rather than an error every caller handles.
    #[allow(clippy::expect_used)]
    fn seal(&self, nonce: &[u8; 12], payload: Payload<'_, '_>) -> Vec<u8> {
        let n = aes_gcm::Nonce::<aes_gcm::aes::cipher::consts::U12>::from(*nonce);
        match self {
            Cipher::Aes(c) => c.encrypt(&n, payload),
            Cipher::Sm4(c) => c.encrypt(&n, payload),
        }
        .expect("GCM encryption of short values cannot fail")
    }

    fn open(&self, nonce: &[u8], payload: Payload<'_, '_>) -> Result<Vec<u8>, CryptoError> {
        let n = aes_gcm::Nonce::<aes_gcm::aes::cipher::consts::U12>::try_from(nonce)
            .map_err(|_| CryptoError::Open)?;
        match self {
            Cipher::Aes(c) => c.decrypt(&n, payload),
            Cipher::Sm4(c) => c.decrypt(&n, payload),
        }
        .map_err(|_| CryptoError::Open)
    }
}

/// The keyed lookup hash, keyed once when the ring is loaded.
#[derive(Clone)]
enum LookupMac {
    Sm3(Hmac<sm3::Sm3>),
    Sha256(Hmac<sha2::Sha256>),
}

/// Seals and opens sensitive values; computes their lookup hashes.
pub struct KeyRing {
    primary: String,
    ciphers: BTreeMap<String, Arc<Cipher>>,
    /// The primary key's cipher (also in `ciphers`), found once when the ring is loaded.
    sealer: Arc<Cipher>,
    /// Key id → one-way fingerprint of its material, recorded in the database that it seals.
    fingerprints: BTreeMap<String, String>,
    lookup_mac: LookupMac,
}

/// A one-way fingerprint of key material: tells keys apart without revealing them.
fn fingerprint(kind: &str, material: &[u8]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"shegong key fingerprint v1\0");
    h.update(kind.as_bytes());
    h.update(b"\0");
    h.update(material);
    let mut hex = hex::encode(h.finalize());
    hex.truncate(24);
    hex
}

/// The name under which the lookup-hash key's fingerprint is recorded (not a valid key id).
pub const HASH_KEY_ID: &str = "#hash";

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("KeyRing")
            .field("primary", &self.primary)
            .field("keys", &self.ciphers.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn decode_key(spec: &KeySpec) -> Result<Vec<u8>, CryptoError> {
    let bytes = hex::decode(spec.key.trim())
        .map_err(|_| CryptoError::Config(format!("key {} is not hex", spec.id)))?;
    if bytes.len() != spec.algorithm.key_len() {
        return Err(CryptoError::Config(format!(
            "key {} must be {} bytes for its algorithm",
            spec.id,
            spec.algorithm.key_len()
        )));
    }
    Ok(bytes)
}

impl KeyRing {
    pub fn from_spec(spec: &KeyRingSpec) -> Result<Self, CryptoError> {
        let mut ciphers = BTreeMap::new();
        let mut fingerprints = BTreeMap::new();
        for k in &spec.keys {
            if k.id.is_empty() || !k.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(CryptoError::Config(format!("bad key id {:?}", k.id)));
            }
            let bytes = decode_key(k)?;
            let kind = match k.algorithm {
                Algorithm::Aes256Gcm => "aes-256-gcm",
                Algorithm::Sm4Gcm => "sm4-gcm",
            };
            fingerprints.insert(k.id.clone(), fingerprint(kind, &bytes));
            let cipher = match k.algorithm {
                Algorithm::Aes256Gcm => Cipher::Aes(Box::new(
                    Aes256Gcm::new_from_slice(&bytes)
                        .map_err(|_| CryptoError::Config("aes key".into()))?,
                )),
                Algorithm::Sm4Gcm => Cipher::Sm4(Box::new(
                    Sm4Gcm::new_from_slice(&bytes)
                        .map_err(|_| CryptoError::Config("sm4 key".into()))?,
                )),
            };
            if ciphers.insert(k.id.clone(), Arc::new(cipher)).is_some() {
                return Err(CryptoError::Config(format!(
                    "key id {} appears twice",
                    k.id
                )));
            }
        }
        let sealer = ciphers.get(&spec.primary).cloned().ok_or_else(|| {
            CryptoError::Config(format!("primary key {} is not in the ring", spec.primary))
        })?;
        let hash_key = hex::decode(spec.hash_key.trim())
            .map_err(|_| CryptoError::Config("hash_key is not hex".into()))?;
        if hash_key.len() < 32 {
            return Err(CryptoError::Config(
                "hash_key must be at least 32 bytes".into(),
            ));
        }
        fingerprints.insert(
            HASH_KEY_ID.to_owned(),
            fingerprint(
                if spec.hash_sm3 {
                    "hmac-sm3"
                } else {
                    "hmac-sha256"
                },
                &hash_key,
            ),
        );
        let bad_hash_key = |_| CryptoError::Config("hash_key".into());
        let lookup_mac = if spec.hash_sm3 {
            LookupMac::Sm3(
                <Hmac<sm3::Sm3> as KeyInit>::new_from_slice(&hash_key).map_err(bad_hash_key)?,
            )
        } else {
            LookupMac::Sha256(
                <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&hash_key).map_err(bad_hash_key)?,
            )
        };
        Ok(Self {
            primary: spec.primary.clone(),
            ciphers,
            sealer,
            fingerprints,
            lookup_mac,
        })
    }

    /// A new ring with one random key (for a first start; the caller persists the spec).
    pub fn generate_spec(algorithm: Algorithm) -> KeyRingSpec {
        let mut rng = rand::rng();
        let mut key = vec![0u8; algorithm.key_len()];
        rng.fill_bytes(&mut key);
        let mut hash_key = vec![0u8; 32];
        rng.fill_bytes(&mut hash_key);
        let id = format!("k{}", chrono::Utc::now().format("%Y%m%d"));
        KeyRingSpec {
            primary: id.clone(),
            keys: vec![KeySpec {
                id,
                algorithm,
                key: hex::encode(key),
            }],
            hash_key: hex::encode(hash_key),
            hash_sm3: algorithm == Algorithm::Sm4Gcm,
        }
    }

    pub fn primary(&self) -> &str {
        &self.primary
    }

    /// Key id (and [`HASH_KEY_ID`]) → fingerprint of every key in the ring.
    pub fn fingerprints(&self) -> &BTreeMap<String, String> {
        &self.fingerprints
    }

    /// Encrypt `value` of column `field` with the primary key.
    pub fn seal(&self, field: &str, value: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self.sealer.seal(
            &nonce,
            Payload {
                msg: value.as_bytes(),
                aad: field.as_bytes(),
            },
        );
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("v1:{}:{}", self.primary, hex::encode(out))
    }

    /// Decrypt a value sealed for column `field` (by any key in the ring).
    pub fn open(&self, field: &str, sealed: &str) -> Result<String, CryptoError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Open);
        };
        let cipher = self.ciphers.get(id).ok_or(CryptoError::Open)?;
        let bytes = hex::decode(body).map_err(|_| CryptoError::Open)?;
        if bytes.len() < 12 + 16 {
            return Err(CryptoError::Open);
        }
        let (nonce, msg) = bytes.split_at_checked(12).ok_or(CryptoError::Open)?;
        let plain = cipher.open(
            nonce,
            Payload {
                msg,
                aad: field.as_bytes(),
            },
        )?;
        String::from_utf8(plain).map_err(|_| CryptoError::Open)
    }

    /// Encrypt bytes (e.g. an uploaded spreadsheet held for an import): `key id ‖ 0 ‖ nonce ‖
    /// ciphertext ‖ tag`.
    pub fn seal_bytes(&self, field: &str, value: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self.sealer.seal(
            &nonce,
            Payload {
                msg: value,
                aad: field.as_bytes(),
            },
        );
        let mut out = self.primary.as_bytes().to_vec();
        out.push(0);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open_bytes(&self, field: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut parts = sealed.splitn(2, |b| *b == 0);
        let (Some(id), Some(rest)) = (parts.next(), parts.next()) else {
            return Err(CryptoError::Open);
        };
        let id = std::str::from_utf8(id).map_err(|_| CryptoError::Open)?;
        if rest.len() < 12 + 16 {
            return Err(CryptoError::Open);
        }
        let (nonce, msg) = rest.split_at_checked(12).ok_or(CryptoError::Open)?;
        self.ciphers.get(id).ok_or(CryptoError::Open)?.open(
            nonce,
            Payload {
                msg,
                aad: field.as_bytes(),
            },
        )
    }

    /// Whether a sealed value was made by an older key (and should be re-encrypted).
    pub fn is_stale(&self, sealed: &str) -> bool {
        sealed.split(':').nth(1) != Some(self.primary.as_str())
    }

    /// The keyed lookup hash of a normalised value of `field` (hex).
    pub fn lookup_hash(&self, field: &str, value: &str) -> String {
        let input = format!("{field}\u{1f}{value}");
        match self.lookup_mac.clone() {
            LookupMac::Sm3(mut mac) => {
                mac.update(input.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            LookupMac::Sha256(mut mac) => {
                mac.update(input.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(alg: Algorithm) -> KeyRing {
        KeyRing::from_spec(&KeyRing::generate_spec(alg)).unwrap()
    }

    #[test]
    fn seal_and_open_round_trip_with_both_algorithms() {
        for alg in [Algorithm::Aes256Gcm, Algorithm::Sm4Gcm] {
            let r = ring(alg);
            let sealed = r.seal("staff.id_number", "11010519491231002X");
            assert!(sealed.starts_with("v1:k"));
            assert!(!sealed.contains("11010519491231002X"));
            assert_ne!(
                sealed,
                r.seal("staff.id_number", "11010519491231002X"),
                "random nonces"
            );
            assert_eq!(
                r.open("staff.id_number", &sealed).unwrap(),
                "11010519491231002X"
            );
            // Bound to its column.
            assert!(r.open("staff.mobile", &sealed).is_err());
        }
    }

    #[test]
    fn bytes_round_trip() {
        let r = ring(Algorithm::Sm4Gcm);
        let data = b"name,id\n\xe7\x8e\x8b,11010519491231002X\n".to_vec();
        let sealed = r.seal_bytes("import", &data);
        assert!(!sealed.windows(18).any(|w| w == b"11010519491231002X"));
        assert_eq!(r.open_bytes("import", &sealed).unwrap(), data);
        assert!(r.open_bytes("other", &sealed).is_err());
    }

    #[test]
    fn tampering_is_detected() {
        let r = ring(Algorithm::Aes256Gcm);
        let sealed = r.seal("f", "secret");
        let mut chars: Vec<char> = sealed.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == '0' { '1' } else { '0' };
        assert!(r.open("f", &chars.into_iter().collect::<String>()).is_err());
        assert!(r.open("f", "v1:nokey:00").is_err());
        assert!(r.open("f", "plain text").is_err());
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let mut spec = KeyRing::generate_spec(Algorithm::Aes256Gcm);
        let old = KeyRing::from_spec(&spec).unwrap();
        let sealed_old = old.seal("f", "value");
        let mut newer = KeyRing::generate_spec(Algorithm::Sm4Gcm).keys.remove(0);
        newer.id = "k-next".into();
        spec.keys.push(newer);
        spec.primary = "k-next".into();
        let rotated = KeyRing::from_spec(&spec).unwrap();
        assert_eq!(rotated.open("f", &sealed_old).unwrap(), "value");
        assert!(rotated.is_stale(&sealed_old));
        let sealed_new = rotated.seal("f", "value");
        assert!(!rotated.is_stale(&sealed_new));
        // The lookup hash does not depend on the encryption key.
        assert_eq!(
            old.lookup_hash("f", "value"),
            rotated.lookup_hash("f", "value")
        );
    }

    #[test]
    fn lookup_hashes_are_keyed_and_per_field() {
        let a = ring(Algorithm::Aes256Gcm);
        let b = ring(Algorithm::Aes256Gcm);
        assert_eq!(a.lookup_hash("id", "x"), a.lookup_hash("id", "x"));
        assert_ne!(a.lookup_hash("id", "x"), b.lookup_hash("id", "x"));
        assert_ne!(a.lookup_hash("id", "x"), a.lookup_hash("mobile", "x"));
        assert_eq!(ring(Algorithm::Sm4Gcm).lookup_hash("id", "x").len(), 64);
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut spec = KeyRing::generate_spec(Algorithm::Aes256Gcm);
        spec.primary = "missing".into();
        assert!(KeyRing::from_spec(&spec).is_err());
        let mut spec = KeyRing::generate_spec(Algorithm::Sm4Gcm);
        spec.keys[0].algorithm = Algorithm::Aes256Gcm; // 16-byte key for AES-256
        assert!(KeyRing::from_spec(&spec).is_err());
    }
}

/// Read the key ring from `path`, or create it there (mode 0600) with one fresh key.
/// Returns the ring and whether it was created now. The file must be backed up apart from the
/// database: without it, sealed values cannot be read.
pub fn load_or_create(
    path: &std::path::Path,
    algorithm: Algorithm,
) -> Result<(KeyRing, bool), CryptoError> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CryptoError::Config(format!("{}: {e}", path.display())))?;
        let spec: KeyRingSpec = toml_lite::from_str(&text)
            .map_err(|e| CryptoError::Config(format!("{}: {e}", path.display())))?;
        return Ok((KeyRing::from_spec(&spec)?, false));
    }
    let spec = KeyRing::generate_spec(algorithm);
    write_spec(path, &spec)?;
    Ok((KeyRing::from_spec(&spec)?, true))
}

/// Add a new primary key to the ring in `path` (old keys stay for reading). Returns its id.
pub fn rotate(path: &std::path::Path, algorithm: Algorithm) -> Result<String, CryptoError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CryptoError::Config(format!("{}: {e}", path.display())))?;
    let mut spec: KeyRingSpec =
        toml_lite::from_str(&text).map_err(|e| CryptoError::Config(e.to_string()))?;
    let mut fresh = KeyRing::generate_spec(algorithm).keys.remove(0);
    let base = fresh.id.clone();
    let mut n = 1;
    while spec.keys.iter().any(|k| k.id == fresh.id) {
        n += 1;
        fresh.id = format!("{base}-{n}");
    }
    spec.primary = fresh.id.clone();
    spec.keys.push(fresh);
    KeyRing::from_spec(&spec)?;
    write_spec(path, &spec)?;
    Ok(spec.primary)
}

fn write_spec(path: &std::path::Path, spec: &KeyRingSpec) -> Result<(), CryptoError> {
    let io = |e: std::io::Error| CryptoError::Config(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io)?;
        f.write_all(toml_lite::to_string(spec).as_bytes())
            .map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

/// The key file is a tiny TOML document; writing and reading it needs no TOML library here.
mod toml_lite {
    use super::{Algorithm, KeyRingSpec, KeySpec};

    fn alg(a: Algorithm) -> &'static str {
        match a {
            Algorithm::Aes256Gcm => "aes-256-gcm",
            Algorithm::Sm4Gcm => "sm4-gcm",
        }
    }

    pub fn to_string(s: &KeyRingSpec) -> String {
        let mut out = String::from(
            "# Shegong data keys. Keep this file secret and back it up apart from the database.\n",
        );
        out.push_str(&format!(
            "primary = \"{}\"\nhash_key = \"{}\"\nhash_sm3 = {}\n",
            s.primary, s.hash_key, s.hash_sm3
        ));
        for k in &s.keys {
            out.push_str(&format!(
                "\n[[keys]]\nid = \"{}\"\nalgorithm = \"{}\"\nkey = \"{}\"\n",
                k.id,
                alg(k.algorithm),
                k.key
            ));
        }
        out
    }

    pub fn from_str(text: &str) -> Result<KeyRingSpec, String> {
        let mut spec = KeyRingSpec {
            primary: String::new(),
            keys: Vec::new(),
            hash_key: String::new(),
            hash_sm3: false,
        };
        let mut current: Option<KeySpec> = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line == "[[keys]]" {
                spec.keys.extend(current.take());
                current = Some(KeySpec {
                    id: String::new(),
                    algorithm: Algorithm::Aes256Gcm,
                    key: String::new(),
                });
                continue;
            }
            let (k, v) = line
                .split_once('=')
                .ok_or(format!("line {}: expected key = value", n + 1))?;
            let (k, v) = (k.trim(), v.trim().trim_matches('"').to_owned());
            match (&mut current, k) {
                (None, "primary") => spec.primary = v,
                (None, "hash_key") => spec.hash_key = v,
                (None, "hash_sm3") => spec.hash_sm3 = v == "true",
                (Some(c), "id") => c.id = v,
                (Some(c), "key") => c.key = v,
                (Some(c), "algorithm") => {
                    c.algorithm = match v.as_str() {
                        "aes-256-gcm" => Algorithm::Aes256Gcm,
                        "sm4-gcm" => Algorithm::Sm4Gcm,
                        other => return Err(format!("line {}: unknown algorithm {other}", n + 1)),
                    }
                }
                _ => return Err(format!("line {}: unexpected {k}", n + 1)),
            }
        }
        spec.keys.extend(current);
        Ok(spec)
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn key_files_are_created_private_and_rotate() {
        let dir = std::env::temp_dir().join(format!("shegong-keys-{}", uuid::Uuid::now_v7()));
        let path = dir.join("keys.toml");
        let (ring, created) = load_or_create(&path, Algorithm::Aes256Gcm).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let sealed = ring.seal("f", "v");
        let (again, created) = load_or_create(&path, Algorithm::Aes256Gcm).unwrap();
        assert!(!created);
        assert_eq!(again.open("f", &sealed).unwrap(), "v");
        let new_id = rotate(&path, Algorithm::Sm4Gcm).unwrap();
        let (rotated, _) = load_or_create(&path, Algorithm::Aes256Gcm).unwrap();
        assert_eq!(rotated.primary(), new_id);
        assert_eq!(rotated.open("f", &sealed).unwrap(), "v");
        assert!(rotated.is_stale(&sealed));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
