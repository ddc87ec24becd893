//! The demo's pages: small server-rendered HTML. Every interpolated value goes through
//! [`escape`], so these functions take plain text.

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}\
label{display:block;margin-top:1rem}input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}\
button{font:inherit;margin-top:1rem;padding:.5rem 1.2rem}\
.alert{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem .8rem;border-radius:.3rem}\
.muted{color:#666;font-size:.9rem}";

fn layout(app_name: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {app}</title><style>{STYLE}</style></head>\
         <body><header class=\"muted\">{app}</header><main><h1>{title}</h1>\n{body}\n</main></body></html>\n",
        title = escape(title),
        app = escape(app_name),
    )
}

/// The first-factor form, optionally with an error and the username typed before.
pub fn login(app_name: &str, error: Option<&str>, username: &str) -> String {
    let alert = error
        .map(|message| format!("<p role=\"alert\" class=\"alert\">{}</p>", escape(message)))
        .unwrap_or_default();
    let body = format!(
        "{alert}<form method=\"post\" action=\"/login\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required value=\"{username}\">\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        username = escape(username),
    );
    layout(app_name, "Sign in", &body)
}

/// What the second-factor page needs.
#[derive(Debug)]
pub struct Verify<'a> {
    pub app_name: &'a str,
    pub username: &'a str,
    pub edge_url: &'a str,
    pub client_id: &'a str,
    pub request: &'a str,
    pub hosted_url: &'a str,
}

/// "Verify it's you": the embed snippet of the contract, plus the hosted alternative.
pub fn verify(v: &Verify<'_>) -> String {
    let body = format!(
        "<p>Signed in with a password as <strong>{username}</strong>. Confirm with your second factor.</p>\
         <div id=\"tessera-prompt\"></div><script src=\"{edge}/prompt/v1/embed.js\" \
         data-client-id=\"{client_id}\" data-request=\"{request}\" data-target=\"#tessera-prompt\" async></script>\
         <p class=\"muted\"><a href=\"{hosted}\">Use the hosted prompt instead</a></p>",
        username = escape(v.username),
        edge = escape(v.edge_url),
        client_id = escape(v.client_id),
        request = escape(v.request),
        hosted = escape(v.hosted_url),
    );
    layout(v.app_name, "Verify it's you", &body)
}

/// The result page, also shown at `/` while the session is signed in.
pub fn signed_in(app_name: &str, username: &str, factor: &str) -> String {
    let body = format!(
        "<p id=\"signed-in\">Signed in as {username} (factor: {factor})</p>\
         <form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>",
        username = escape(username),
        factor = escape(factor),
    );
    layout(app_name, "Welcome", &body)
}

/// A failure explained in one sentence, with a way back.
pub fn failure(app_name: &str, message: &str) -> String {
    let body = format!(
        "<p role=\"alert\" class=\"alert\">{}</p><p><a href=\"/\">Start again</a></p>",
        escape(message)
    );
    layout(app_name, "Sign-in failed", &body)
}

/// Any unknown path.
pub fn not_found(app_name: &str) -> String {
    let body = "<p role=\"alert\" class=\"alert\">There is no page at this address.</p>\
                <p><a href=\"/\">Go to the sign-in page</a></p>";
    layout(app_name, "Not found", body)
}
