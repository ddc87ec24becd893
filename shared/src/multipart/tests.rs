use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const B: &str = "------------------------d74496d66958873e";

/// A body as curl builds it for PHP's `CURLOPT_POSTFIELDS` array.
fn curl_body(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{B}--\r\n"));
    body.into_bytes()
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn boundary_from_content_type() {
    let ok = [
        (format!("multipart/form-data; boundary={B}"), B.to_owned()),
        (
            "Multipart/Form-Data;boundary=\"a b:c\"".to_owned(),
            "a b:c".to_owned(),
        ),
        (
            "multipart/form-data; charset=utf-8; BOUNDARY=x".to_owned(),
            "x".to_owned(),
        ),
    ];
    for (content_type, expected) in ok {
        assert_eq!(boundary(&content_type), Ok(expected), "{content_type}");
    }
    let bad = [
        "multipart/form-data".to_owned(),
        "multipart/form-data; boundary=".to_owned(),
        "multipart/form-data; boundary=\"\"".to_owned(),
        "multipart/form-data; boundary=\"unterminated".to_owned(),
        "multipart/form-data; boundary=a; boundary=b".to_owned(),
        "multipart/form-data; boundary=semi\u{0}colon".to_owned(),
        "multipart/form-data; boundary=trailing ".to_owned() + "\"",
        format!("multipart/form-data; boundary={}", "x".repeat(71)),
        "multipart/mixed; boundary=x".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
        "multipart/form-data; boundary".to_owned(),
    ];
    for content_type in bad {
        assert_eq!(
            boundary(&content_type),
            Err(MultipartError::Boundary),
            "{content_type:?}"
        );
    }
}

#[test]
fn parses_php_curl_fields() {
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", "abc"),
        ("redirect_uri", "https://rp.example/cb?x=1&y=2"),
        ("client_id", "DIXXXXXXXXXXXXXXXXXX"),
        ("empty", ""),
        ("multi", "line one\r\nline two ünï"),
    ];
    assert_eq!(parse_form(&curl_body(&fields), B), Ok(pairs(&fields)));
}

#[test]
fn accepts_preamble_epilogue_padding_and_part_headers() {
    let body = format!(
        "preamble\r\n--{B}  \r\ncontent-disposition: form-data; name=a; x=\"y;z\"\r\n\
         Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n1\r\n\
         --{B}\r\nContent-Disposition: form-data; name=\"q\\\"uote\"\r\n\r\n2\r\n--{B}--epilogue"
    );
    assert_eq!(
        parse_form(body.as_bytes(), B),
        Ok(pairs(&[("a", "1"), ("q\"uote", "2")]))
    );
    // A body with only the closing delimiter has no fields.
    assert_eq!(parse_form(format!("--{B}--").as_bytes(), B), Ok(vec![]));
}

#[test]
fn refusals() {
    let part = |headers: &str, value: &str| {
        format!("--{B}\r\n{headers}\r\n\r\n{value}\r\n--{B}--\r\n").into_bytes()
    };
    let named = "Content-Disposition: form-data; name=\"a\"";
    let cases: Vec<(Vec<u8>, MultipartError)> = vec![
        (b"".to_vec(), MultipartError::Framing),
        (b"no boundary here".to_vec(), MultipartError::Framing),
        (
            format!("--{B}\r\n{named}\r\n\r\nunterminated").into_bytes(),
            MultipartError::Framing,
        ),
        (
            format!("--{B}garbage\r\n").into_bytes(),
            MultipartError::Framing,
        ),
        (format!("--{B}").into_bytes(), MultipartError::Framing),
        (
            format!("--{B}\r\n{named}\r\nno blank line\r\n--{B}--").into_bytes(),
            MultipartError::PartHeaders,
        ),
        (part("no colon here", "v"), MultipartError::PartHeaders),
        (
            part(&format!("{named}\r\nX: a\u{7}b"), "v"),
            MultipartError::PartHeaders,
        ),
        (
            part("Content-Type: text/plain", "v"),
            MultipartError::Disposition,
        ),
        (
            part("Content-Disposition: attachment; name=\"a\"", "v"),
            MultipartError::Disposition,
        ),
        (
            part("Content-Disposition: form-data", "v"),
            MultipartError::Disposition,
        ),
        (
            part("Content-Disposition: form-data; name=\"\"", "v"),
            MultipartError::Disposition,
        ),
        (
            part("Content-Disposition: form-data; name=\"open", "v"),
            MultipartError::Disposition,
        ),
        (
            part("Content-Disposition: form-data; name=a; name=b", "v"),
            MultipartError::Disposition,
        ),
        (
            part(&format!("{named}\r\n{named}"), "v"),
            MultipartError::Disposition,
        ),
        (
            part(
                "Content-Disposition: form-data; name=\"a\"; filename=\"x.txt\"",
                "v",
            ),
            MultipartError::NotText,
        ),
        (
            part(
                &format!("{named}\r\nContent-Type: application/octet-stream"),
                "v",
            ),
            MultipartError::NotText,
        ),
        (
            part(
                &format!("{named}\r\nContent-Type: text/plain; charset=latin1"),
                "v",
            ),
            MultipartError::NotText,
        ),
        (
            part(
                &format!("{named}\r\nContent-Transfer-Encoding: base64"),
                "dg==",
            ),
            MultipartError::NotText,
        ),
        (
            [
                format!("--{B}\r\n{named}\r\n\r\n").into_bytes(),
                vec![0xff, 0xfe],
                format!("\r\n--{B}--").into_bytes(),
            ]
            .concat(),
            MultipartError::NotUtf8,
        ),
        (
            part(
                &format!("{named}\r\n{}", ["X-Pad: 1"; MAX_PART_HEADERS].join("\r\n")),
                "v",
            ),
            MultipartError::TooLarge,
        ),
        (
            [
                format!("--{B}\r\n{named}\r\n\r\nv\r\n")
                    .repeat(MAX_PARTS + 1)
                    .into_bytes(),
                format!("--{B}--").into_bytes(),
            ]
            .concat(),
            MultipartError::TooLarge,
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            parse_form(&body, B),
            Err(expected),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}
