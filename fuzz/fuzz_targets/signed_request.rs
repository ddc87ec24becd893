//! Arbitrary Authorization headers, dates and parameters of Duo signed requests.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::SecretString;
use tessera_shared::signing::{self, RequestParts};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut fields = text.split('\n');
    let header = fields.next().unwrap_or_default();
    let date = fields.next().unwrap_or_default();
    let params: Vec<(String, String)> = fields
        .filter_map(|line| line.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let _ = signing::parse_rfc2822(date);
    let _ = signing::canonical_params(&params);
    if let Ok((_, signature)) = signing::parse_authorization(header) {
        let parts = RequestParts {
            method: "POST",
            host: "api.example.com",
            path: "/auth/v2/auth",
            params: &params,
            body: data,
            date,
            x_duo_headers: &[],
        };
        let key = SecretString::from("gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT");
        let _ = signing::verify(&key, &parts, &signature, 1_345_570_158);
    }
});
