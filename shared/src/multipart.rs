//! `multipart/form-data` bodies of text fields (RFC 7578), as Duo's PHP client sends to
//! `/oauth/v1/token` and `/oauth/v1/health_check` (`PROTOCOL-DUO.md` §1.1, §1.4).
//!
//! Only what a form of short text fields needs: a boundary from the `Content-Type`
//! parameters, parts with a `Content-Disposition: form-data; name=…` header, an optional
//! `Content-Type` that must be `text/plain`, and UTF-8 values. File parts, nested
//! multiparts and transfer encodings other than identity are refused, and so is anything
//! after too many parts or headers. The parser works on a byte slice already bounded by
//! the caller's body limit, never panics and never allocates more than the input's size.

use thiserror::Error;

/// At most this many parts (Duo's clients send six fields).
pub const MAX_PARTS: usize = 32;
/// At most this many header lines per part.
pub const MAX_PART_HEADERS: usize = 8;
/// RFC 2046 §5.1.1: a boundary is 1 to 70 characters.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// Why a multipart body was refused. Callers answer every variant with a 400.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MultipartError {
    #[error("the content type has no usable boundary parameter")]
    Boundary,
    #[error("the body does not start with the boundary or is not closed by it")]
    Framing,
    #[error("a part's headers are malformed")]
    PartHeaders,
    #[error("a part is not a named form-data field")]
    Disposition,
    #[error("a part is a file, another media type or transfer-encoded")]
    NotText,
    #[error("a field value is not UTF-8")]
    NotUtf8,
    #[error("too many parts or part headers")]
    TooLarge,
}

/// The boundary of a `multipart/form-data` content type, or an error when the media type
/// is another one or the boundary is missing or not RFC 2046's `bchars`.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut items = content_type.split(';');
    let media = items.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return Err(MultipartError::Boundary);
    }
    let mut found = None;
    for item in items {
        let (name, value) = item.split_once('=').ok_or(MultipartError::Boundary)?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            continue;
        }
        if found.is_some() {
            return Err(MultipartError::Boundary);
        }
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(rest) => rest.strip_suffix('"').ok_or(MultipartError::Boundary)?,
            None => value,
        };
        found = Some(value.to_owned());
    }
    let boundary = found.ok_or(MultipartError::Boundary)?;
    let valid = (1..=MAX_BOUNDARY_LEN).contains(&boundary.len())
        && !boundary.ends_with(' ')
        && boundary.bytes().all(is_bchar);
    if valid {
        Ok(boundary)
    } else {
        Err(MultipartError::Boundary)
    }
}

/// RFC 2046 `bchars`: digits, letters, space and `'()+_,-./:=?`.
fn is_bchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+_,-./:=?".contains(&b)
}

/// The `(name, value)` fields of `body`, in order. A preamble before the first boundary
/// and an epilogue after the closing one are ignored, as RFC 2046 says.
pub fn parse_form(body: &[u8], boundary: &str) -> Result<Vec<(String, String)>, MultipartError> {
    // The first delimiter may start the body; every later one follows a CRLF.
    let first = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let mut rest = if body.starts_with(first.as_bytes()) {
        body.get(first.len()..).unwrap_or_default()
    } else {
        let at = find(body, delimiter.as_bytes()).ok_or(MultipartError::Framing)?;
        body.get(at + delimiter.len()..).unwrap_or_default()
    };
    let mut fields = Vec::new();
    loop {
        // After a delimiter: `--` closes the body; else optional padding, then CRLF.
        if rest.starts_with(b"--") {
            return Ok(fields);
        }
        let padding = rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        rest = rest
            .get(padding..)
            .and_then(|r| r.strip_prefix(b"\r\n"))
            .ok_or(MultipartError::Framing)?;
        if fields.len() == MAX_PARTS {
            return Err(MultipartError::TooLarge);
        }
        let end = find(rest, delimiter.as_bytes()).ok_or(MultipartError::Framing)?;
        let part = rest.get(..end).unwrap_or_default();
        fields.push(parse_part(part)?);
        rest = rest.get(end + delimiter.len()..).unwrap_or_default();
    }
}

/// One part: header lines, an empty line, then the value.
fn parse_part(part: &[u8]) -> Result<(String, String), MultipartError> {
    let (head, value) = if let Some(rest) = part.strip_prefix(b"\r\n") {
        (&[][..], rest)
    } else {
        let split = find(part, b"\r\n\r\n").ok_or(MultipartError::PartHeaders)?;
        (
            part.get(..split).unwrap_or_default(),
            part.get(split + 4..).unwrap_or_default(),
        )
    };
    let head = std::str::from_utf8(head).map_err(|_| MultipartError::PartHeaders)?;
    let mut name = None;
    let lines = (!head.is_empty()).then(|| head.split("\r\n"));
    for (count, line) in lines.into_iter().flatten().enumerate() {
        if count == MAX_PART_HEADERS {
            return Err(MultipartError::TooLarge);
        }
        let (header, content) = line.split_once(':').ok_or(MultipartError::PartHeaders)?;
        if header.is_empty() || !header.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(MultipartError::PartHeaders);
        }
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return Err(MultipartError::PartHeaders);
        }
        let content = content.trim();
        if header.eq_ignore_ascii_case("content-disposition") {
            if name.is_some() {
                return Err(MultipartError::Disposition);
            }
            name = Some(disposition_name(content)?);
        } else if header.eq_ignore_ascii_case("content-type") {
            let media = content.split(';').next().unwrap_or_default().trim();
            if !media.eq_ignore_ascii_case("text/plain") {
                return Err(MultipartError::NotText);
            }
            let charset_ok = content.split(';').skip(1).all(|param| {
                param.split_once('=').is_none_or(|(key, value)| {
                    !key.trim().eq_ignore_ascii_case("charset")
                        || matches!(
                            value.trim().trim_matches('"').to_ascii_lowercase().as_str(),
                            "utf-8" | "us-ascii"
                        )
                })
            });
            if !charset_ok {
                return Err(MultipartError::NotText);
            }
        } else if header.eq_ignore_ascii_case("content-transfer-encoding")
            && !matches!(
                content.to_ascii_lowercase().as_str(),
                "7bit" | "8bit" | "binary"
            )
        {
            return Err(MultipartError::NotText);
        }
    }
    let name = name.ok_or(MultipartError::Disposition)?;
    let value = String::from_utf8(value.to_vec()).map_err(|_| MultipartError::NotUtf8)?;
    Ok((name, value))
}

/// The `name` of `form-data; name="…"`, refusing `filename` (a file part).
fn disposition_name(content: &str) -> Result<String, MultipartError> {
    let (kind, mut params) = match content.split_once(';') {
        Some((kind, params)) => (kind, params),
        None => (content, ""),
    };
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(MultipartError::Disposition);
    }
    let mut name = None;
    loop {
        params = params.trim_start_matches([' ', '\t', ';']);
        if params.is_empty() {
            break;
        }
        let (key, after) = params.split_once('=').ok_or(MultipartError::Disposition)?;
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            quoted_string(quoted)?
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (
                after.get(..end).unwrap_or_default().trim().to_owned(),
                after.get(end..).unwrap_or_default(),
            )
        };
        params = remaining;
        match key.as_str() {
            "name" if name.is_none() => name = Some(value),
            "name" => return Err(MultipartError::Disposition),
            "filename" | "filename*" => return Err(MultipartError::NotText),
            _ => {}
        }
    }
    name.filter(|name| !name.is_empty())
        .ok_or(MultipartError::Disposition)
}

/// A quoted string's content (after the opening quote) with `\` escapes resolved, and the
/// text after its closing quote.
fn quoted_string(text: &str) -> Result<(String, &str), MultipartError> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((value, text.get(at + 1..).unwrap_or_default())),
            '\\' => value.push(chars.next().ok_or(MultipartError::Disposition)?.1),
            c => value.push(c),
        }
    }
    Err(MultipartError::Disposition)
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests;
