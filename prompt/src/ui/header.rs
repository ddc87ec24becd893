//! Who is signing in to what: the application's logo and name, and the username.

use leptos::prelude::*;

use super::texts;
use crate::brand;
use crate::flow::Started;
use crate::strings;

/// The application's name (and logo, when it has a web URL) and the username, once the
/// prompt has started.
#[component]
pub fn Header(
    /// What `/prompt/v1/start` answered, if it has.
    #[prop(into)]
    started: Signal<Option<Started>>,
) -> impl IntoView {
    let texts = texts();
    move || {
        started.get().map(|started| {
            let (before, after) = strings::split(texts.signed_in_as, "user");
            // The name is written beside the logo, so the image is decorative.
            let logo = started
                .application
                .logo_url
                .as_deref()
                .and_then(brand::logo)
                .map(|url| view! { <img class="logo" src=url.to_owned() alt="" /> });
            view! {
                <header class="header">
                    {logo}
                    <h2 class="application">{started.application.name.clone()}</h2>
                    <p class="user">
                        {before}<strong>{started.username.clone()}</strong>{after}
                    </p>
                </header>
            }
        })
    }
}
