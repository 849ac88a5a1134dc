//! Password authentication by SCRAM-SHA-256 (RFC 5802 / RFC 7677), as
//! PostgreSQL does it. Only the verifier (salt, iteration count, StoredKey,
//! ServerKey) is kept in memory; the clear-text password is dropped once the
//! verifier is derived. Channel binding (SCRAM-SHA-256-PLUS) is not offered:
//! libpq then proceeds with plain SCRAM-SHA-256 on TLS and plaintext alike.

use basalt_executor::scram::{ct_eq, hmac_sha256};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::{digest, rand::SecureRandom};

pub const MECHANISM: &str = "SCRAM-SHA-256";

pub use basalt_executor::scram::Verifier;

/// One SCRAM exchange, server side.
pub struct ScramServer<'a> {
    verifier: &'a Verifier,
    client_first_bare: String,
    server_first: String,
    nonce: String,
    gs2_header: String,
}

/// Why an exchange failed: a protocol violation (08P01) or a wrong password
/// (28P01).
#[derive(Debug, PartialEq)]
pub enum ScramError {
    Protocol(String),
    BadPassword,
}

fn attr(part: &str, name: char) -> Option<&str> {
    part.strip_prefix(name)?.strip_prefix('=')
}

impl<'a> ScramServer<'a> {
    /// Takes the client-first-message; returns the server-first-message.
    pub fn start(verifier: &'a Verifier, client_first: &str) -> Result<(Self, String), ScramError> {
        let bad = |m: &str| ScramError::Protocol(m.to_string());
        // gs2-header: "n,," or "y,," (client could bind but thinks we can't);
        // "p=..." asks for channel binding, which was not offered.
        let (cb, rest) = client_first
            .split_once(',')
            .ok_or_else(|| bad("malformed SCRAM message"))?;
        match cb {
            "n" | "y" => {}
            c if c.starts_with("p=") => return Err(bad(
                "channel binding is not supported: connect with channel_binding=disable or prefer",
            )),
            _ => {
                return Err(bad(
                    "malformed SCRAM message (unexpected channel-binding flag)",
                ))
            }
        }
        let (authzid, bare) = rest
            .split_once(',')
            .ok_or_else(|| bad("malformed SCRAM message"))?;
        if !authzid.is_empty() {
            return Err(bad(
                "client uses authorization identity, but it is not supported",
            ));
        }
        let client_nonce = bare
            .split(',')
            .find_map(|p| attr(p, 'r'))
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad("malformed SCRAM message (missing nonce)"))?;
        let mut raw = [0u8; 18];
        ring::rand::SystemRandom::new()
            .fill(&mut raw)
            .map_err(|_| bad("no randomness for the SCRAM nonce"))?;
        let nonce = format!("{client_nonce}{}", B64.encode(raw));
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&verifier.salt),
            verifier.iterations
        );
        Ok((
            ScramServer {
                verifier,
                client_first_bare: bare.to_string(),
                server_first: server_first.clone(),
                nonce,
                gs2_header: format!("{cb},{authzid},"),
            },
            server_first,
        ))
    }

    /// Takes the client-final-message; returns the server-final-message
    /// when the proof matches.
    pub fn finish(self, client_final: &str) -> Result<String, ScramError> {
        let bad = |m: &str| ScramError::Protocol(m.to_string());
        let (without_proof, proof) = client_final
            .rsplit_once(",p=")
            .ok_or_else(|| bad("malformed SCRAM message (missing proof)"))?;
        let mut parts = without_proof.split(',');
        let binding = parts
            .next()
            .and_then(|p| attr(p, 'c'))
            .ok_or_else(|| bad("malformed SCRAM message (missing channel binding)"))?;
        if B64.decode(binding).ok().as_deref() != Some(self.gs2_header.as_bytes()) {
            return Err(bad("SCRAM channel binding check failed"));
        }
        let nonce = parts
            .next()
            .and_then(|p| attr(p, 'r'))
            .ok_or_else(|| bad("malformed SCRAM message (missing nonce)"))?;
        if nonce != self.nonce {
            return Err(bad("SCRAM nonce mismatch"));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| bad("malformed SCRAM message (invalid proof)"))?;
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let client_sig = hmac_sha256(&self.verifier.stored_key, auth_message.as_bytes());
        if proof.len() != client_sig.len() {
            return Err(ScramError::BadPassword);
        }
        let client_key: Vec<u8> = proof.iter().zip(&client_sig).map(|(a, b)| a ^ b).collect();
        let stored = digest::digest(&digest::SHA256, &client_key);
        if !ct_eq(stored.as_ref(), &self.verifier.stored_key) {
            return Err(ScramError::BadPassword);
        }
        let server_sig = hmac_sha256(&self.verifier.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_sig)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::pbkdf2;
    use std::num::NonZeroU32;

    /// A client side of the exchange, written from RFC 5802.
    fn client_proof(
        password: &str,
        client_first_bare: &str,
        server_first: &str,
        final_wo: &str,
    ) -> String {
        let mut it = server_first.split(',');
        let _r = it.next().unwrap();
        let salt = B64.decode(attr(it.next().unwrap(), 's').unwrap()).unwrap();
        let iters: u32 = attr(it.next().unwrap(), 'i').unwrap().parse().unwrap();
        let v = Verifier::derive(password, salt.clone(), iters);
        let mut salted = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            NonZeroU32::new(iters).unwrap(),
            &salt,
            password.as_bytes(),
            &mut salted,
        );
        let client_key = hmac_sha256(&salted, b"Client Key");
        let auth = format!("{client_first_bare},{server_first},{final_wo}");
        let sig = hmac_sha256(&v.stored_key, auth.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
        B64.encode(proof)
    }

    fn exchange(stored_pw: &str, given_pw: &str) -> Result<String, ScramError> {
        let v = Verifier::from_password(stored_pw).unwrap();
        let (s, server_first) = ScramServer::start(&v, "n,,n=,r=abcdef").unwrap();
        let nonce = attr(server_first.split(',').next().unwrap(), 'r')
            .unwrap()
            .to_string();
        let wo = format!("c=biws,r={nonce}");
        let proof = client_proof(given_pw, "n=,r=abcdef", &server_first, &wo);
        s.finish(&format!("{wo},p={proof}"))
    }

    #[test]
    fn right_password_passes_wrong_fails() {
        assert!(exchange("secret", "secret").unwrap().starts_with("v="));
        assert_eq!(exchange("secret", "Secret"), Err(ScramError::BadPassword));
    }

    #[test]
    fn verifier_round_trips_pg_format() {
        let v = Verifier::from_password("pw").unwrap();
        let s = v.to_pg_format();
        let w = Verifier::from_secret(&s).unwrap();
        assert_eq!(w.to_pg_format(), s);
    }

    #[test]
    fn channel_binding_request_is_refused() {
        let v = Verifier::from_password("pw").unwrap();
        assert!(matches!(
            ScramServer::start(&v, "p=tls-server-end-point,,n=,r=x"),
            Err(ScramError::Protocol(_))
        ));
    }
}
