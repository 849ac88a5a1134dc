//! SCRAM-SHA-256 verifiers (RFC 5802 / RFC 7677) in PostgreSQL's format:
//! what CREATE ROLE ... PASSWORD stores instead of the password, and what
//! the server's SCRAM exchange checks a client's proof against.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::{digest, hmac, pbkdf2, rand::SecureRandom};
use std::num::NonZeroU32;

const ITERATIONS: u32 = 4096;

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&k, msg).as_ref().to_vec()
}

/// A SCRAM-SHA-256 verifier in PostgreSQL's format
/// `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`.
#[derive(Clone, Debug)]
pub struct Verifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

/// Equality that takes the same time wherever the first difference is.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Verifier {
    /// Derives a verifier from a password with a fresh random salt.
    pub fn from_password(password: &str) -> Result<Verifier, String> {
        let mut salt = vec![0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| "no randomness for the SCRAM salt".to_string())?;
        Ok(Self::derive(password, salt, ITERATIONS))
    }

    pub fn derive(password: &str, salt: Vec<u8>, iterations: u32) -> Verifier {
        let mut salted = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            NonZeroU32::new(iterations.max(1)).expect("at least one"),
            &salt,
            password.as_bytes(),
            &mut salted,
        );
        let client_key = hmac_sha256(&salted, b"Client Key");
        Verifier {
            iterations,
            salt,
            stored_key: digest::digest(&digest::SHA256, &client_key)
                .as_ref()
                .to_vec(),
            server_key: hmac_sha256(&salted, b"Server Key"),
        }
    }

    /// Reads a password file's content: a PostgreSQL-format verifier, or a
    /// clear-text password from which one is derived.
    pub fn from_secret(secret: &str) -> Result<Verifier, String> {
        match secret.strip_prefix("SCRAM-SHA-256$") {
            Some(rest) => {
                Self::parse(rest).ok_or_else(|| "malformed SCRAM-SHA-256 verifier".into())
            }
            None => Self::from_password(secret),
        }
    }

    pub fn parse(rest: &str) -> Option<Verifier> {
        let (iter_salt, keys) = rest.split_once('$')?;
        let (iter, salt) = iter_salt.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        Some(Verifier {
            iterations: iter.parse().ok()?,
            salt: B64.decode(salt).ok()?,
            stored_key: B64.decode(stored).ok()?,
            server_key: B64.decode(server).ok()?,
        })
    }

    pub fn to_pg_format(&self) -> String {
        format!(
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.stored_key),
            B64.encode(&self.server_key)
        )
    }
}
