//! Tessera's prompt: the screen where a user completes two-factor authentication.
//!
//! A Leptos (client-side rendering) component compiled to Wasm. `embed.js` creates a
//! shadow root in the host page (or the edge's hosted page) and calls [`mount`]; the
//! prompt then talks to the edge's `/prompt/v1/*` API ([`tessera_shared::v1`]) and, when
//! the user is verified, dispatches `tessera:complete` and redirects. [`preview`] renders
//! one screen with fixed data and no edge, for audits and screenshots.
//!
//! Layout: [`flow`] is the state machines (pure, tested natively), [`strings`] the
//! message catalogs, [`brand`] the application's checked branding, [`keep`] what is kept
//! in the browser, [`config`] the page's settings, [`api`] the edge calls; the DOM parts
//! (`ui`, `host`, [`mount`], [`preview`]) exist on wasm32 only.
//!
//! Architecture invariant: no protocol logic lives in JavaScript; `embed.js` only loads
//! this module and passes the page's attributes.

pub mod api;
pub mod brand;
pub mod config;
pub mod flow;
pub mod keep;
pub mod preview_data;
pub mod strings;

#[cfg(target_arch = "wasm32")]
pub mod host;
#[cfg(target_arch = "wasm32")]
pub mod ui;

#[cfg(target_arch = "wasm32")]
pub use web::{mount, preview};

#[cfg(target_arch = "wasm32")]
mod web {
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;

    use crate::config::Config;
    use crate::strings::Lang;
    use crate::ui::{Preview, Prompt};

    /// Mounts the prompt into `target` with `{edge, clientId, request, nonce?, lang?}`.
    ///
    /// The prompt lives as long as the page: the mount handle is deliberately leaked.
    #[wasm_bindgen]
    pub fn mount(target: web_sys::HtmlElement, config: JsValue) {
        let config = Config::from_js(&config);
        let parent = target.clone();
        leptos::mount::mount_to(parent, move || view! { <Prompt config target /> }).forget();
    }

    /// Renders the screen named `{screen, lang?}` (see [`crate::preview_data::SCREENS`])
    /// with fixed data. It talks to no edge and cannot complete a sign-in.
    #[wasm_bindgen]
    pub fn preview(target: web_sys::HtmlElement, options: JsValue) {
        let field = |name: &str| {
            js_sys::Reflect::get(&options, &JsValue::from_str(name))
                .ok()
                .and_then(|value| value.as_string())
        };
        let screen = field("screen").unwrap_or_default();
        let lang = field("lang")
            .as_deref()
            .and_then(Lang::from_tag)
            .unwrap_or_else(|| {
                let languages = crate::host::languages();
                Lang::detect(languages.iter().map(String::as_str))
            });
        let now = crate::host::now();
        leptos::mount::mount_to(target, move || view! { <Preview screen lang now /> }).forget();
    }
}
