//! "Other options": the user's other methods.

use leptos::prelude::*;
use tessera_shared::v1::{Method, MethodOption};

use crate::strings;

/// A list of buttons, one per other method; nothing when there are none.
#[component]
pub fn OtherOptions(
    /// The methods to offer, most secure first.
    #[prop(into)]
    options: Signal<Vec<MethodOption>>,
    /// Called with the method the user picks.
    on_choose: Callback<Method>,
) -> impl IntoView {
    move || {
        let options = options.get();
        (!options.is_empty()).then(|| {
            let items = options
                .into_iter()
                .map(|option| option_button(option, on_choose))
                .collect_view();
            view! {
                <section class="options" aria-labelledby="tessera-options">
                    <h3 id="tessera-options">{strings::OTHER_OPTIONS}</h3>
                    <ul>{items}</ul>
                </section>
            }
        })
    }
}

fn option_button(option: MethodOption, on_choose: Callback<Method>) -> impl IntoView {
    let method = option.method;
    let device = option
        .device_name
        .map(|name| view! { <span class="device">{name}</span> });
    view! {
        <li>
            <button type="button" class="option" on:click=move |_| on_choose.run(method)>
                {strings::method_label(method)}
                {device}
            </button>
        </li>
    }
}
