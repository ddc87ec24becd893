//! The prompt's calls to the edge: `POST /prompt/v1/start` and `POST /prompt/v1/passcode`,
//! JSON both ways, errors as [`ErrorBody`].

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
pub use web::{passcode, start};

#[cfg(target_arch = "wasm32")]
mod web {
    use gloo_net::http::Request;
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use tessera_shared::v1::{Completion, PasscodeRequest, StartResponse};

    use super::decode;
    use crate::config::Config;
    use crate::flow::Failure;

    /// Starts the prompt for the page's request.
    pub async fn start(config: &Config) -> Result<StartResponse, Failure> {
        post(&config.start_url(), config.start_request()).await
    }

    /// Submits a passcode for `session`.
    pub async fn passcode(
        config: &Config,
        session: String,
        passcode: String,
    ) -> Result<Completion, Failure> {
        let body = PasscodeRequest { session, passcode };
        post(&config.passcode_url(), &body).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(url: &str, body: &B) -> Result<T, Failure> {
        let body = serde_json::to_string(body).map_err(|_| Failure::Unexpected)?;
        let (ok, text) = exchange(url, body).await?;
        decode(ok, &text)
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
    use tessera_shared::v1::{Completion, ErrorCode};

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
        assert_eq!(info.message, "Incorrect passcode. 9 attempts left.");
        assert_eq!(info.attempts_left, Some(9));
    }
}
