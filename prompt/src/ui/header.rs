//! Who is signing in to what.

use leptos::prelude::*;

use crate::flow::Started;
use crate::strings;

/// The application's name and the username, once the prompt has started.
#[component]
pub fn Header(
    /// What `/prompt/v1/start` answered, if it has.
    #[prop(into)]
    started: Signal<Option<Started>>,
) -> impl IntoView {
    move || {
        started.get().map(|started| {
            view! {
                <header class="header">
                    <h2 class="application">{started.application.name.clone()}</h2>
                    <p class="user">
                        {strings::SIGNED_IN_AS}" "<strong>{started.username.clone()}</strong>
                    </p>
                </header>
            }
        })
    }
}
