//! EdDSA `id_token`s. Arbitrary text as a token against a key nobody signs with: nothing
//! may verify. Arbitrary JSON as the claims of a correctly signed token: the claim rules
//! refuse or accept without panicking, and what they accept matches the expectations.
//! Arbitrary JSON as a key set: only the real key may verify a real token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_shared::oidc::{self, EdDsaSigningKey, IdTokenClaims, Jwks};

const ISSUER: &str = "https://tessera.example";
const CLIENT: &str = "client-1";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let (Ok(signer), Ok(stranger)) = (
        EdDsaSigningKey::from_seed("2024-06", [1; 32]),
        EdDsaSigningKey::from_seed("2024-06", [9; 32]),
    ) else {
        return;
    };
    let nobody = Jwks::new(&[stranger.public_key()]);
    let ours = Jwks::new(&[signer.public_key()]);

    if let Ok(token) = std::str::from_utf8(data) {
        let result = oidc::verify_eddsa_id_token(&nobody, token, ISSUER, CLIENT, None, NOW);
        assert!(result.is_err(), "a token nobody signed verified");
    }

    if let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(data) {
        let token = oidc::sign_eddsa(&signer, &claims);
        let nonce = claims.get("nonce").and_then(Value::as_str);
        if let Ok(verified) = oidc::verify_eddsa_id_token(&ours, &token, ISSUER, CLIENT, nonce, NOW)
        {
            assert_eq!(claims.get("iss").and_then(Value::as_str), Some(ISSUER));
            assert!(!verified.subject.is_empty());
            assert!(verified.expires_at >= NOW - oidc::LEEWAY_SECONDS);
            assert_eq!(verified.claims, claims);
        }
        assert!(oidc::verify_eddsa_id_token(&nobody, &token, ISSUER, CLIENT, nonce, NOW).is_err());
    }

    if let Ok(jwks) = serde_json::from_slice::<Jwks>(data) {
        let claims = IdTokenClaims {
            subject: "user-42".into(),
            auth_time: NOW,
            nonce: None,
            preferred_username: None,
            amr: Vec::new(),
        };
        let token = oidc::mint_eddsa_id_token(&signer, ISSUER, CLIENT, &claims, NOW);
        if oidc::verify_eddsa_id_token(&jwks, &token, ISSUER, CLIENT, None, NOW).is_ok() {
            assert_eq!(jwks.find("2024-06"), Some(signer.public_key()));
        }
    }
});
