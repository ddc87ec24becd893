//! "Other options": the user's other usable methods, then the application's "Manage
//! devices" and "Need help?" links.

use leptos::prelude::*;
use tessera_shared::v1::{Application, Method, MethodOption};

use super::texts;
use crate::flow::is_web_url;

/// A list of buttons, one per other method, and the links; nothing when there are none.
#[component]
pub fn OtherOptions(
    /// The methods to offer, most secure first.
    #[prop(into)]
    options: Signal<Vec<MethodOption>>,
    /// The application, for its links, while the user can choose.
    #[prop(into)]
    application: Signal<Option<Application>>,
    /// Called with the method the user picks.
    on_choose: Callback<Method>,
) -> impl IntoView {
    let texts = texts();
    move || {
        let options = options.get();
        let application = application.get();
        let link = |url: Option<&String>, text: &'static str, id: &'static str| {
            url.filter(|url| is_web_url(url)).map(|url| {
                view! {
                    <li>
                        <a class="link" id=id href=url.clone() target="_blank" rel="noopener noreferrer">
                            {text}
                        </a>
                    </li>
                }
            })
        };
        let manage = application.as_ref().and_then(|app| {
            link(
                app.manage_devices_url.as_ref(),
                texts.manage_devices,
                "tessera-manage-devices",
            )
        });
        let help = application
            .as_ref()
            .and_then(|app| link(app.help_url.as_ref(), texts.need_help, "tessera-help"));
        if options.is_empty() && manage.is_none() && help.is_none() {
            return None;
        }
        let items = options
            .into_iter()
            .map(|option| option_button(option, on_choose))
            .collect_view();
        Some(view! {
            <section class="options" aria-labelledby="tessera-options" data-testid="other-options">
                <h3 id="tessera-options">{texts.other_options}</h3>
                <ul>{items}{manage}{help}</ul>
            </section>
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
            <button
                type="button"
                class="option"
                data-method=method.as_str()
                on:click=move |_| on_choose.run(method)
            >
                <span>{texts().method_label(method)}</span>
                {device}
            </button>
        </li>
    }
}
