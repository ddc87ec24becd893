//! Criterion benchmarks of the verifications the edge runs per request. `cargo xtask
//! bench` runs them beside the same operations in Python's pyotp, PyJWT and duo_client
//! (`tests/interop/bench.py`) and prints the ratios.

// Set-up failures should stop the benchmark loudly.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tessera_shared::SecretString;
use tessera_shared::approval::{Approval, DeviceSigningKey, sign_approval, verify_approval};
use tessera_shared::jws::{self, Hs512Key};
use tessera_shared::otp::{Algorithm, OtpKey, Totp};
use tessera_shared::signing::{self, RequestParts, Version};
use tessera_shared::v1::ApprovalDecision;

const NOW: i64 = 1_700_000_000;

fn totp(c: &mut Criterion) {
    let key = OtpKey::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", Algorithm::Sha1, 6).unwrap();
    let totp = Totp::new(key, 30);
    let code = totp.code_at(NOW);
    c.bench_function("totp_verify", |b| {
        b.iter(|| totp.verify(black_box(&code), black_box(NOW), 1, None))
    });
}

fn hs512(c: &mut Criterion) {
    let key = Hs512Key::from_secret_str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN");
    let claims = json!({
        "iss": "DIABCDEFGHIJKLMNOPQR", "sub": "DIABCDEFGHIJKLMNOPQR",
        "aud": "https://localhost:8443/oauth/v1/token", "exp": NOW + 300, "jti": "0123456789abcdef"
    });
    let claims = claims.as_object().unwrap().clone();
    let token = jws::sign(&key, &claims);
    c.bench_function("hs512_sign", |b| {
        b.iter(|| jws::sign(black_box(&key), black_box(&claims)))
    });
    c.bench_function("hs512_verify", |b| {
        b.iter(|| jws::verify(black_box(&key), black_box(&token)))
    });
}

fn request_signature(c: &mut Criterion) {
    let secret = SecretString::from("gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT");
    let params: Vec<(String, String)> = [
        ("username", "alice"),
        ("factor", "push"),
        ("device", "auto"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let date = "Tue, 14 Nov 2023 22:13:20 -0000";
    let parts = RequestParts {
        method: "POST",
        host: "api-abcdef12.example.com",
        path: "/auth/v2/auth",
        params: &params,
        body: b"",
        date,
        x_duo_headers: &[],
    };
    let signature = signing::sign(&secret, Version::V2Sha512, &parts);
    let now = signing::parse_rfc2822(date).unwrap();
    c.bench_function("request_signature_verify", |b| {
        b.iter(|| {
            signing::verify(
                black_box(&secret),
                black_box(&parts),
                black_box(&signature),
                now,
            )
        })
    });
}

/// Ed25519 verification of a signed push approval (the signature check dominates).
fn ed25519(c: &mut Criterion) {
    let key = DeviceSigningKey::from_seed([7; 32]).unwrap();
    let public = key.public_key();
    let approval = Approval::new(
        "67199dfd-b964-40a2-857f-cf80a6c49581",
        ApprovalDecision::Approve,
        Some("708"),
        NOW,
        "DPABCDEFGHIJKLMNOPQR",
    )
    .unwrap();
    let signed = sign_approval(&key, &approval);
    c.bench_function("ed25519_verify", |b| {
        b.iter(|| {
            verify_approval(
                black_box(&public),
                black_box(&signed),
                "67199dfd-b964-40a2-857f-cf80a6c49581",
                Some("708"),
                NOW,
                60,
            )
        })
    });
}

criterion_group!(benches, totp, hs512, request_signature, ed25519);
criterion_main!(benches);
