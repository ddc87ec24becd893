//! The backend's one call to the edge: exchanging the authorization code at
//! `/oauth/v1/token`. Plain HTTP only (the local edge); an `https://` edge URL needs a TLS
//! connector that this demo does not ship.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use tessera_shared::rp::TokenResponse;
use thiserror::Error;

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BODY: usize = 64 * 1024;

/// Why the code exchange failed. The detail is for logs; the page says less.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExchangeError {
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the edge answered {status}: {error} ({description})")]
    Refused {
        status: StatusCode,
        error: String,
        description: String,
    },
    #[error("the edge's token response is malformed: {0}")]
    Malformed(String),
}

/// Duo's error body.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// A small HTTP client bound to one edge.
#[derive(Debug, Clone)]
pub struct Edge {
    client: Client<HttpConnector, Full<Bytes>>,
    token_url: String,
}

impl Edge {
    pub fn new(edge_url: &str) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            token_url: format!("{edge_url}/oauth/v1/token"),
        }
    }

    /// POSTs `form` (from `rp::Client::token_form`) and parses Duo's four-key answer.
    pub async fn exchange(
        &self,
        form: &[(&'static str, String)],
    ) -> Result<TokenResponse, ExchangeError> {
        let unreachable = |detail: String| ExchangeError::Unreachable {
            url: self.token_url.clone(),
            detail,
        };
        let uri: Uri = self
            .token_url
            .parse()
            .map_err(|e: axum::http::uri::InvalidUri| unreachable(e.to_string()))?;
        let body = serde_urlencoded::to_string(form)
            .map_err(|e| ExchangeError::Malformed(e.to_string()))?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::USER_AGENT, "tessera-www")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unreachable(e.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| unreachable(error_chain(&e)))?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| unreachable(e.to_string()))?
                .to_bytes();
            Ok::<_, ExchangeError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| unreachable(format!("no answer within {}s", TIMEOUT.as_secs())))??;
        if !status.is_success() {
            let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
            let (error, description) = match body {
                Some(b) => (b.error, b.error_description),
                None => (
                    "unparsable error body".to_owned(),
                    // One log line: the start of the body with its whitespace collapsed.
                    String::from_utf8_lossy(bytes.get(..200).unwrap_or(&bytes))
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            };
            return Err(ExchangeError::Refused {
                status,
                error,
                description,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ExchangeError::Malformed(e.to_string()))
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
