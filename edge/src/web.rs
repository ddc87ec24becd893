//! HTTP plumbing shared by the flows: response builders, the `v1` error shape, body and
//! content-type checks, query and form parsing, origins.

use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tessera_shared::v1::{ErrorBody, ErrorCode};

pub type Request = http::Request<Vec<u8>>;
pub type Response = http::Response<Vec<u8>>;

/// Largest request body any endpoint reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A refusal in Tessera's own shape (`ErrorBody`), for `/prompt` and `/internal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(pub ErrorBody);

impl ApiError {
    pub fn new(code: ErrorCode, message: &str) -> Self {
        Self(ErrorBody::new(code, message))
    }

    pub fn with_attempts_left(mut self, attempts_left: u32) -> Self {
        self.0.error.attempts_left = Some(attempts_left);
        self
    }

    pub fn bad_request(message: &str) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "Something went wrong on our side. Try again in a moment.",
        )
    }

    pub fn into_response(self) -> Response {
        json(self.0.error.code.http_status(), &self.0)
    }
}

/// Logs an internal failure and returns the generic `internal` error: the detail stays
/// in the platform log.
pub fn internal(detail: &dyn std::fmt::Display) -> ApiError {
    log(&format!("internal error: {detail}"));
    ApiError::internal()
}

/// One line to the platform log: the Workers console on wasm32, stderr natively.
pub fn log(line: &str) {
    #[cfg(target_arch = "wasm32")]
    worker_log(line);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{line}");
}

#[cfg(target_arch = "wasm32")]
fn worker_log(line: &str) {
    worker::console_error!("{}", line);
}

pub fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Sets a header; values we build are always valid, and an invalid one is dropped
/// rather than panicking.
pub fn set_header(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

pub fn response(code: u16, content_type: &str, body: Vec<u8>) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status(code);
    let headers = response.headers_mut();
    set_header(headers, header::CONTENT_TYPE, content_type);
    set_header(headers, header::CACHE_CONTROL, "no-store");
    set_header(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    response
}

pub fn json<T: Serialize>(code: u16, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => response(code, "application/json", body),
        Err(_) => response(500, "application/json", br#"{"error":{"code":"internal","message":"Something went wrong on our side. Try again in a moment."}}"#.to_vec()),
    }
}

pub fn header_str(request: &Request, name: HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The media type of the body, lowercased, without parameters.
pub fn media_type(request: &Request) -> Option<String> {
    header_str(request, header::CONTENT_TYPE).map(|value| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

pub fn check_body_size(request: &Request) -> Result<(), ApiError> {
    if request.body().len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            "The request body is too large.",
        ));
    }
    Ok(())
}

/// Parses a JSON body after checking its size and content type.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    check_body_size(request)?;
    if media_type(request).as_deref() != Some("application/json") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the request body as application/json.",
        ));
    }
    let invalid = || ApiError::bad_request("The request body is not valid for this endpoint.");
    // Only a JSON object is a request: serde would otherwise fill a struct from an array by
    // position, and a body of the wrong shape could pass as a real attempt.
    let object =
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(request.body())
            .map_err(|_| invalid())?;
    serde_json::from_value(serde_json::Value::Object(object)).map_err(|_| invalid())
}

/// The host the client addressed: the `Host` header, else the URI's authority.
pub fn host(request: &Request) -> Option<String> {
    header_str(request, header::HOST)
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()))
        .filter(|host| !host.is_empty())
}

/// The edge's own origin for this request (`http://localhost:8787`), from the URI scheme
/// (as the platform saw the request) and the host.
pub fn own_origin(request: &Request) -> Option<String> {
    let scheme = request.uri().scheme_str().unwrap_or("https");
    host(request).map(|host| format!("{scheme}://{host}"))
}

/// Decodes `application/x-www-form-urlencoded` pairs.
pub fn form_pairs(text: &str) -> Option<Vec<(String, String)>> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(text).ok()
}

/// Escapes text for an HTML attribute value (either quote) or text node.
pub fn escape_html(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}
