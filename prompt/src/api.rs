//! The prompt's calls to the edge (`/prompt/v1/*`), JSON both ways, errors as
//! [`ErrorBody`]. Only `shared::v1` types cross this boundary.

use serde::de::DeserializeOwned;
use tessera_shared::v1::ErrorBody;

use crate::flow::Failure;

/// Reads an answer: the expected body on success, the [`ErrorBody`] otherwise.
pub fn decode<T: DeserializeOwned>(ok: bool, body: &str) -> Result<T, Failure> {
    if ok {
        serde_json::from_str(body).map_err(|_| Failure::Unexpected)
    } else {
        Err(refusal(body))
    }
}

/// Not generic, so there is one copy of it in the Wasm.
fn refusal(body: &str) -> Failure {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(body) => Failure::Refused(body.error),
        Err(_) => Failure::Unexpected,
    }
}

#[cfg(target_arch = "wasm32")]
pub use web::{cancel, feedback, passcode, push, push_status, start};

#[cfg(target_arch = "wasm32")]
mod web {
    use gloo_net::http::Request;
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use tessera_shared::v1::{
        CancelRequest, Completion, MAX_PUSH_WAIT_MS, Method, PROMPT_CANCEL, PROMPT_PASSCODE,
        PROMPT_PUSH, PROMPT_PUSH_FEEDBACK, PROMPT_PUSH_STATUS, PROMPT_START, PasscodeRequest,
        PushFeedbackRequest, PushStartRequest, PushStarted, PushStatus, PushStatusRequest,
        StartRequest, StartResponse,
    };

    use super::{decode, refusal};
    use crate::config::Config;
    use crate::flow::Failure;

    /// Starts the prompt for the page's request, with this browser's remembered devices.
    pub async fn start(config: &Config, remembered: Vec<String>) -> Result<StartResponse, Failure> {
        let body = StartRequest {
            remembered,
            ..config.start_request().clone()
        };
        post(&config.url(PROMPT_START), &body).await
    }

    /// Submits a typed code for `session`.
    pub async fn passcode(
        config: &Config,
        session: String,
        passcode: String,
    ) -> Result<Completion, Failure> {
        let body = PasscodeRequest { session, passcode };
        post(&config.url(PROMPT_PASSCODE), &body).await
    }

    /// Sends a push of `method` to `device_id` (or the user's first push device).
    pub async fn push(
        config: &Config,
        session: String,
        method: Method,
        device_id: Option<String>,
    ) -> Result<PushStarted, Failure> {
        let body = PushStartRequest {
            session,
            device_id,
            method: Some(method),
        };
        post(&config.url(PROMPT_PUSH), &body).await
    }

    /// Long-polls where the push `txid` stands: the edge answers as soon as it changes.
    pub async fn push_status(
        config: &Config,
        session: String,
        txid: String,
    ) -> Result<PushStatus, Failure> {
        let body = PushStatusRequest {
            session,
            txid,
            wait_ms: MAX_PUSH_WAIT_MS,
        };
        post(&config.url(PROMPT_PUSH_STATUS), &body).await
    }

    /// "Was this request from you?" after a denied push.
    pub async fn feedback(
        config: &Config,
        session: String,
        txid: String,
        was_me: bool,
    ) -> Result<(), Failure> {
        let body = PushFeedbackRequest {
            session,
            txid,
            was_me,
        };
        post_empty(&config.url(PROMPT_PUSH_FEEDBACK), &body).await
    }

    /// Withdraws the pending push `txid`.
    pub async fn cancel(config: &Config, session: String, txid: String) -> Result<(), Failure> {
        let body = CancelRequest { session, txid };
        post_empty(&config.url(PROMPT_CANCEL), &body).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(url: &str, body: &B) -> Result<T, Failure> {
        let body = serde_json::to_string(body).map_err(|_| Failure::Unexpected)?;
        let (ok, text) = exchange(url, body).await?;
        decode(ok, &text)
    }

    /// For endpoints that answer `204 No Content`.
    async fn post_empty<B: Serialize>(url: &str, body: &B) -> Result<(), Failure> {
        let body = serde_json::to_string(body).map_err(|_| Failure::Unexpected)?;
        match exchange(url, body).await? {
            (true, _) => Ok(()),
            (false, text) => Err(refusal(&text)),
        }
    }

    /// The fetch itself, not generic. No cookies go cross-origin (the default `same-origin`
    /// credentials mode): the session travels in the body.
    async fn exchange(url: &str, body: String) -> Result<(bool, String), Failure> {
        let request = Request::post(url)
            .header("content-type", "application/json")
            .body(body)
            .map_err(|_| Failure::Unexpected)?;
        let response = request.send().await.map_err(|_| Failure::Network)?;
        let text = response.text().await.map_err(|_| Failure::Network)?;
        Ok((response.ok(), text))
    }
}

#[cfg(test)]
mod tests {
    use tessera_shared::v1::{Completion, ErrorCode, PushState, PushStatus};

    use super::*;

    fn check(ok: bool, body: &str, expected: Result<&str, Failure>) {
        let decoded = decode::<Completion>(ok, body).map(|completion| completion.code);
        assert_eq!(decoded, expected.map(str::to_owned), "{body}");
    }

    #[test]
    fn decodes_answers() {
        check(
            true,
            r#"{"redirect":"http://rp/cb","code":"C","state":"S"}"#,
            Ok("C"),
        );
        check(true, "{}", Err(Failure::Unexpected));
        check(false, "<html>502</html>", Err(Failure::Unexpected));
        let body = r#"{"error":{"code":"invalid_passcode","message":"Incorrect passcode. 9 attempts left.","attempts_left":9}}"#;
        let Err(Failure::Refused(info)) = decode::<Completion>(false, body) else {
            panic!("an error body is a refusal");
        };
        assert_eq!(info.code, ErrorCode::InvalidPasscode);
        assert_eq!(info.attempts_left, Some(9));
        let status: PushStatus = decode(
            true,
            r#"{"state":"approved","completion":{"redirect":"http://rp/cb","code":"C","state":"S","remember":{"token":"R","expires_at":9,"scope":"shared"}}}"#,
        )
        .expect("a status");
        assert_eq!(status.state, PushState::Approved);
        assert!(status.completion.and_then(|c| c.remember).is_some());
    }
}
