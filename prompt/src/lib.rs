//! Tessera's prompt: the screen where a user completes two-factor authentication.
//!
//! A Leptos (client-side rendering) component compiled to Wasm. `embed.js` creates a
//! shadow root in the host page (or the edge's hosted page) and calls [`mount`]; the
//! prompt then talks to the edge's `/prompt/v1/*` API ([`tessera_shared::v1`]) and, when
//! the user is verified, dispatches `tessera:complete` and redirects.
//!
//! Layout: [`flow`] is the state machine (pure, tested natively), [`strings`] every
//! sentence shown, [`config`] the page's settings, [`api`] the edge calls; the DOM parts
//! (`ui`, `host`, [`mount`]) exist on wasm32 only.
//!
//! Architecture invariant: no protocol logic lives in JavaScript; `embed.js` only loads
//! this module and passes the page's attributes.

pub mod api;
pub mod config;
pub mod flow;
pub mod strings;

#[cfg(target_arch = "wasm32")]
pub mod host;
#[cfg(target_arch = "wasm32")]
pub mod ui;

#[cfg(target_arch = "wasm32")]
pub use web::mount;

#[cfg(target_arch = "wasm32")]
mod web {
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;

    use crate::config::Config;
    use crate::ui::Prompt;

    /// Mounts the prompt into `target` with `{edge, clientId, request, nonce?}`.
    ///
    /// The prompt lives as long as the page: the mount handle is deliberately leaked.
    #[wasm_bindgen]
    pub fn mount(target: web_sys::HtmlElement, config: JsValue) {
        let config = Config::from_js(&config);
        let parent = target.clone();
        leptos::mount::mount_to(parent, move || view! { <Prompt config target /> }).forget();
    }
}
