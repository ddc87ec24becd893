//! `multipart/form-data` bodies as Duo's PHP client sends them: the first line of the input
//! is the `Content-Type`, the rest the body. Never a panic; what is accepted respects the
//! limits, and writing the fields back out with the same boundary parses to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::multipart::{self, MAX_PARTS};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (head, body) = data.split_at(split);
    let body = body.get(1..).unwrap_or_default();
    let Ok(content_type) = std::str::from_utf8(head) else { return };
    let Ok(boundary) = multipart::boundary(content_type) else { return };
    assert!(!boundary.is_empty() && boundary.len() <= multipart::MAX_BOUNDARY_LEN);
    let Ok(fields) = multipart::parse_form(body, &boundary) else { return };
    assert!(fields.len() <= MAX_PARTS);
    let value_bytes: usize = fields.iter().map(|(name, value)| name.len() + value.len()).sum();
    assert!(value_bytes <= body.len());
    let mut rebuilt = String::new();
    for (name, value) in &fields {
        assert!(!name.is_empty());
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        rebuilt.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{escaped}\"\r\n\r\n{value}\r\n"
        ));
    }
    rebuilt.push_str(&format!("--{boundary}--\r\n"));
    assert_eq!(multipart::parse_form(rebuilt.as_bytes(), &boundary).as_ref(), Ok(&fields));
});
