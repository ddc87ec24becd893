//! What the page passed to [`crate::mount`]: where the edge is and which request to start.

use tessera_shared::v1::StartRequest;

use crate::strings::Lang;

/// The prompt's configuration, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The edge's origin, without a trailing slash (`http://localhost:8787`).
    edge: String,
    /// The body of `/prompt/v1/start`.
    start: StartRequest,
    /// The language the page asked for (`data-lang`), instead of the browser's.
    pub lang: Option<Lang>,
}

impl Config {
    /// Checks the page's values. `None` when one is missing or the edge is not a web
    /// origin; the prompt then shows [`crate::flow::Problem::Misconfigured`].
    pub fn new(
        edge: Option<String>,
        client_id: Option<String>,
        request: Option<String>,
        nonce: Option<String>,
        lang: Option<String>,
    ) -> Option<Self> {
        let edge = edge?.trim_end_matches('/').to_owned();
        let client_id = client_id.filter(|value| !value.is_empty())?;
        let request = request.filter(|value| !value.is_empty())?;
        if !crate::flow::is_web_url(&edge) {
            return None;
        }
        Some(Self {
            edge,
            start: StartRequest {
                client_id,
                request,
                nonce: nonce.filter(|value| !value.is_empty()),
                remembered: Vec::new(),
            },
            lang: lang.as_deref().and_then(Lang::from_tag),
        })
    }

    /// The body of `/prompt/v1/start`.
    pub fn start_request(&self) -> &StartRequest {
        &self.start
    }

    /// The edge's URL for an API path (`/prompt/v1/start`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.edge)
    }
}

/// Reading the configuration object that embed.js (or a page) passes.
#[cfg(target_arch = "wasm32")]
impl Config {
    /// Reads `{edge, clientId, request, nonce?, lang?}`.
    pub fn from_js(value: &wasm_bindgen::JsValue) -> Option<Self> {
        let field = |name: &str| {
            js_sys::Reflect::get(value, &wasm_bindgen::JsValue::from_str(name))
                .ok()
                .and_then(|field| field.as_string())
        };
        Self::new(
            field("edge"),
            field("clientId"),
            field("request"),
            field("nonce"),
            field("lang"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    #[test]
    fn checks_the_page_values() {
        let config = Config::new(
            some("http://localhost:8787/"),
            some("DI1"),
            some("jwt"),
            some(""),
            some("ar-EG"),
        );
        let Some(config) = config else {
            panic!("a complete configuration is accepted");
        };
        assert_eq!(
            config.url(tessera_shared::v1::PROMPT_START),
            "http://localhost:8787/prompt/v1/start"
        );
        assert_eq!(config.lang, Some(Lang::Ar));
        assert_eq!(
            config.start_request().nonce,
            None,
            "an empty nonce is no nonce"
        );

        for (edge, client_id, request) in [
            (None, some("DI1"), some("jwt")),
            (some("http://e"), None, some("jwt")),
            (some("http://e"), some("DI1"), some("")),
            (some("javascript:x"), some("DI1"), some("jwt")),
        ] {
            assert_eq!(Config::new(edge, client_id, request, None, None), None);
        }
    }
}
