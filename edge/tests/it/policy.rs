//! Policies applied at `/prompt/v1/start` through `Edge::handle`: location (sanctioned
//! regions always denied), authentication skip/deny, new users, authorized networks,
//! allowed methods, remembered devices, user status, lockout settings, audit rows and
//! branding.

use super::*;

const SANCTIONED: &str =
    "Access denied. Tessera does not provide services in your current location.";
const SECOND_CLIENT_ID: &str = "DISECONDAPPLICATION1";

fn from(country: Option<&str>, region: Option<&str>, ip: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.into()),
        country: country.map(str::to_owned),
        region: region.map(str::to_owned),
    }
}

impl World {
    fn set_realm_policy(&self, policy: Value) {
        let reply = self.seed(&json!({"realm": "demo", "policy": policy}));
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    fn set_app(&self, client_id: &str, policy: Value, branding: Value) {
        let body = json!({"realm": "demo", "applications": [{
            "client_id": client_id, "client_secret": SECRET, "name": "Tessera Demo",
            "origins": [RP_ORIGIN], "policy": policy, "branding": branding}]});
        let reply = self.seed(&body);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    fn set_user(&self, username: &str, status: &str) {
        let body = json!({"realm": "demo", "users": [{"username": username, "status": status}]});
        assert_eq!(self.seed(&body).status, 200);
    }

    fn start_as(&self, username: &str, now: i64) -> Reply {
        self.start_with(&client().authorize_request(username, STATE, now), now)
    }

    fn start_remembered(
        &self,
        client_id: &str,
        username: &str,
        tokens: &[&str],
        now: i64,
    ) -> Reply {
        let jwt =
            Client::new(client_id, SECRET, HOST, REDIRECT).authorize_request(username, STATE, now);
        let body = json!({"client_id": client_id, "request": jwt, "remembered": tokens});
        self.post_json("/prompt/v1/start", &body, Some(RP_ORIGIN), now)
    }

    /// Exchanges a completion's code and returns (factor, reason) from the `id_token`.
    pub(crate) fn exchange(
        &self,
        completion: &Value,
        username: &str,
        now: i64,
    ) -> (String, String) {
        let code = code_from(completion);
        let reply = self.token(
            &client().token_form(&code, &format!("jti-{code}"), now),
            now,
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        let verified = client()
            .verify_id_token(
                reply.json()["id_token"].as_str().unwrap(),
                username,
                None,
                now,
            )
            .unwrap();
        let reason = verified.claims["auth_context"]["reason"]
            .as_str()
            .unwrap()
            .to_owned();
        (verified.factor, reason)
    }
}

/// "" when the start offers methods; otherwise the error code.
fn outcome(reply: &Reply) -> String {
    match reply.status {
        200 if reply.json()["completion"].is_object() => "complete".into(),
        200 => String::new(),
        _ => reply.error_code().as_str().unwrap_or_default().to_owned(),
    }
}

/// (country, region, user, outcome, message)
type LocationCase<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    &'a str,
    Option<&'a str>,
);

#[test]
fn location_table() {
    let world = World::new();
    world.set_realm_policy(json!({"location": {
        "countries": {"FR": "deny", "US": "allow", "IR": "allow", "DE": "require_2fa"},
        "default": "allow", "unknown": "deny", "anonymous": "deny"}}));
    world.set_user("bypassed", "bypass");
    let locked_out_message =
        "Access denied. Your organization does not allow sign-ins from your current location.";
    let cases: &[LocationCase] = &[
        (
            Some("IR"),
            None,
            "alice",
            "location_denied",
            Some(SANCTIONED),
        ),
        (
            Some("KP"),
            None,
            "alice",
            "location_denied",
            Some(SANCTIONED),
        ),
        (
            Some("CU"),
            None,
            "alice",
            "location_denied",
            Some(SANCTIONED),
        ),
        (
            Some("SY"),
            None,
            "alice",
            "location_denied",
            Some(SANCTIONED),
        ),
        (
            Some("UA"),
            Some("43"),
            "alice",
            "location_denied",
            Some(SANCTIONED),
        ),
        (
            Some("UA"),
            Some("40"),
            "alice",
            "location_denied",
            Some(SANCTIONED),
        ),
        (
            Some("UA"),
            Some("14"),
            "alice",
            "location_denied",
            Some(SANCTIONED),
        ),
        (
            Some("UA"),
            Some("09"),
            "alice",
            "location_denied",
            Some(SANCTIONED),
        ),
        (Some("UA"), Some("30"), "alice", "", None),
        (Some("UA"), None, "alice", "", None),
        (
            Some("ir"),
            None,
            "alice",
            "location_denied",
            Some(SANCTIONED),
        ),
        (
            Some("IR"),
            None,
            "bypassed",
            "location_denied",
            Some(SANCTIONED),
        ),
        (
            Some("T1"),
            None,
            "alice",
            "location_denied",
            Some("Access denied. Sign-ins through anonymous networks such as Tor are not allowed."),
        ),
        (
            None,
            None,
            "alice",
            "location_denied",
            Some("Access denied. Your current location could not be determined."),
        ),
        (Some("XX"), None, "alice", "location_denied", None),
        (
            Some("FR"),
            None,
            "alice",
            "location_denied",
            Some(locked_out_message),
        ),
        (
            Some("FR"),
            None,
            "bypassed",
            "location_denied",
            Some(locked_out_message),
        ),
        (Some("NL"), None, "alice", "", None),
        (Some("DE"), None, "alice", "", None),
        (Some("NL"), None, "bypassed", "complete", None),
    ];
    for &(country, region, user, expected, message) in cases {
        world.client.replace(from(country, region, "198.51.100.7"));
        let reply = world.start_as(user, NOW);
        let label = format!("{country:?}/{region:?} {user}: {}", reply.text());
        assert_eq!(outcome(&reply), expected, "{label}");
        if expected == "location_denied" {
            assert_eq!(reply.status, 403, "{label}");
        }
        if let Some(message) = message {
            assert_eq!(reply.json()["error"]["message"], message, "{label}");
        }
    }
    assert_eq!(
        world.stores.code_count(),
        1,
        "only the bypass allow issued a code"
    );
    // The service name is configurable; the sentence is otherwise exact.
    let mut world = World::new();
    world.config.service_name = "Acme Sign-In".into();
    world.client.replace(from(Some("SY"), None, "198.51.100.7"));
    let reply = world.start_as("alice", NOW);
    assert_eq!(
        reply.json()["error"]["message"],
        "Access denied. Acme Sign-In does not provide services in your current location."
    );
    let audit = world.stores.audit(&alice());
    let last = audit.last().unwrap();
    assert_eq!(
        (
            last.result.as_str(),
            last.reason.as_str(),
            last.country.as_deref()
        ),
        ("deny", "sanctioned_region", Some("SY"))
    );
}

#[test]
fn authentication_skip_and_deny() {
    let world = World::new();
    world.set_app(CLIENT_ID, json!({"authentication": "skip"}), json!({}));
    let reply = world.start_as("alice", NOW);
    assert_eq!(outcome(&reply), "complete", "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["methods"], json!([]));
    assert_eq!(body["completion"]["state"], STATE);
    assert_eq!(
        world.exchange(&body["completion"], "alice", NOW),
        ("not_available".into(), "allowed_by_policy".into())
    );
    // A location rule that requires 2FA beats the skip.
    world.set_realm_policy(json!({"location": {"countries": {"NL": "require_2fa"}}}));
    assert_eq!(outcome(&world.start_as("alice", NOW)), "");
    world.set_realm_policy(json!({}));
    // The application level overrides the realm's.
    world.set_app(CLIENT_ID, json!({"authentication": "deny"}), json!({}));
    world.set_realm_policy(json!({"authentication": "skip"}));
    let reply = world.start_as("alice", NOW);
    assert_eq!(
        (reply.status, outcome(&reply).as_str()),
        (403, "access_denied")
    );
    assert_eq!(
        reply.json()["error"]["message"],
        "Access denied by your organization's policy."
    );
    assert_eq!(world.stores.code_count(), 0);
    let last = world.stores.audit(&alice()).last().unwrap().clone();
    assert_eq!(
        (last.result.as_str(), last.reason.as_str()),
        ("deny", "policy_denied")
    );
    // The realm's skip applies when the application sets nothing.
    world.set_app(CLIENT_ID, json!({}), json!({}));
    assert_eq!(outcome(&world.start_as("alice", NOW)), "complete");
}

#[test]
fn new_users() {
    let world = World::new();
    // (new-user policy, outcome for bob without devices and for carol who does not exist)
    let cases = [
        ("require_enrollment", "enrollment_required"),
        ("allow", "complete"),
        ("deny", "access_denied"),
    ];
    for (action, expected) in cases {
        world.set_app(CLIENT_ID, json!({"new_user": action}), json!({}));
        for user in ["bob", "carol"] {
            let reply = world.start_as(user, NOW);
            assert_eq!(
                outcome(&reply),
                expected,
                "{action} {user}: {}",
                reply.text()
            );
            if expected == "complete" {
                let (factor, reason) = world.exchange(&reply.json()["completion"], user, NOW);
                assert_eq!(
                    (factor.as_str(), reason.as_str()),
                    ("not_available", "allow_unenrolled_user")
                );
            }
        }
        // Enrolled users are unaffected.
        assert_eq!(outcome(&world.start_as("alice", NOW)), "");
    }
}

#[test]
fn authorized_networks() {
    let world = World::new();
    world.set_app(
        CLIENT_ID,
        json!({"authorized_networks": {"networks": ["198.51.100.0/24", "2001:db8::/32"], "action": "allow_without_2fa"}}),
        json!({}),
    );
    // (platform IP, outcome)
    let cases = [
        ("198.51.100.7", "complete"),
        ("2001:db8::1", "complete"),
        ("203.0.113.9", ""),
        ("not an ip", ""),
    ];
    for (ip, expected) in cases {
        world.client.replace(from(Some("NL"), None, ip));
        let reply = world.start_as("alice", NOW);
        assert_eq!(outcome(&reply), expected, "{ip}: {}", reply.text());
    }
    world.client.replace(from(Some("NL"), None, "198.51.100.7"));
    let reply = world.start_as("alice", NOW);
    assert_eq!(
        world.exchange(&reply.json()["completion"], "alice", NOW),
        ("trusted_network".into(), "trusted_network".into())
    );
    world.set_app(
        CLIENT_ID,
        json!({"authorized_networks": {"networks": ["198.51.100.0/24"], "action": "deny_others"}}),
        json!({}),
    );
    for (ip, expected) in [("198.51.100.7", ""), ("203.0.113.9", "access_denied")] {
        world.client.replace(from(Some("NL"), None, ip));
        assert_eq!(outcome(&world.start_as("alice", NOW)), expected, "{ip}");
    }
    world.client.replace(ClientInfo {
        ip: None,
        ..from(Some("NL"), None, "")
    });
    // Without an address from the platform the rule has no effect (as in Duo); the
    // platform always sets one in production.
    assert_eq!(
        outcome(&world.start_as("alice", NOW)),
        "",
        "no IP from the platform"
    );
}

#[test]
fn allowed_methods_filter_the_offer() {
    let world = World::new();
    world.set_app(
        CLIENT_ID,
        json!({"allowed_methods": ["verified_push", "passcode"]}),
        json!({}),
    );
    let reply = world.start_as("alice", NOW);
    assert_eq!(reply.json()["methods"][0]["method"], "passcode");
    assert_eq!(reply.json()["default_method"], "passcode");
    let session = reply.json()["session"].as_str().unwrap().to_owned();
    // The policy changes while the prompt is open: the passcode is refused as well.
    world.set_app(
        CLIENT_ID,
        json!({"allowed_methods": ["verified_push"]}),
        json!({}),
    );
    let done = world.passcode(&session, &totp().code_at(NOW), NOW);
    assert_eq!(done.error_code(), "method_unavailable", "{}", done.text());
    let reply = world.start_as("alice", NOW);
    assert_eq!(
        (reply.status, outcome(&reply).as_str()),
        (400, "method_unavailable")
    );
    assert_eq!(world.stores.code_count(), 0);
}

#[test]
fn remembered_devices_round_trip() {
    let world = World::new();
    let remember =
        json!({"remembered_devices": {"mode": "remember", "days": 7, "scope": "per_app"}});
    world.set_app(CLIENT_ID, remember.clone(), json!({}));
    world.set_app(SECOND_CLIENT_ID, remember, json!({}));
    let completion = world.complete(NOW);
    let offer = &completion["remember"];
    assert_eq!(offer["scope"], "application");
    assert_eq!(offer["expires_at"], NOW + 7 * 86_400);
    let token = offer["token"].as_str().unwrap().to_owned();
    // Honoured for the same user and application, within the days.
    let later = NOW + 3 * 86_400;
    let reply = world.start_remembered(CLIENT_ID, "alice", &[&token], later);
    assert_eq!(outcome(&reply), "complete", "{}", reply.text());
    assert!(reply.json()["completion"]["remember"].is_null());
    assert_eq!(
        world.exchange(&reply.json()["completion"], "alice", later),
        ("remembered_device".into(), "remembered_device".into())
    );
    // (client, user, tokens, when) that must not count
    let tampered = format!("{}x", &token[..token.len() - 1]);
    let refused: [(&str, &str, Vec<&str>, i64); 5] = [
        (SECOND_CLIENT_ID, "alice", vec![&token], later),
        (CLIENT_ID, "bob", vec![&token], later),
        (CLIENT_ID, "alice", vec![&tampered], later),
        (CLIENT_ID, "alice", vec![&token], NOW + 7 * 86_400 + 1),
        (CLIENT_ID, "alice", vec!["garbage"], later),
    ];
    for (client_id, user, tokens, when) in refused {
        let reply = world.start_remembered(client_id, user, &tokens, when);
        assert_ne!(outcome(&reply), "complete", "{client_id} {user} {when}");
    }
    // Turning the policy off stops honouring grants already given.
    world.set_app(CLIENT_ID, json!({}), json!({}));
    let reply = world.start_remembered(CLIENT_ID, "alice", &[&token], later);
    assert_eq!(outcome(&reply), "");
    assert!(world.complete(later + 60).get("remember").is_none());
    // Shared grants count for every application of the realm that shares them.
    let shared = json!({"remembered_devices": {"mode": "remember", "days": 1, "scope": "shared"}});
    world.set_realm_policy(shared);
    world.set_app(SECOND_CLIENT_ID, json!({}), json!({}));
    let token = world.complete(later + 120)["remember"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = world.start_remembered(SECOND_CLIENT_ID, "alice", &[&token], later + 200);
    assert_eq!(outcome(&reply), "complete", "{}", reply.text());
}

#[test]
fn user_status_and_lockout_settings() {
    let world = World::new();
    world.set_user("alice", "bypass");
    let reply = world.start_as("alice", NOW);
    assert_eq!(
        world.exchange(&reply.json()["completion"], "alice", NOW),
        ("not_available".into(), "bypass_user".into())
    );
    world.set_user("alice", "disabled");
    let reply = world.start_as("alice", NOW);
    assert_eq!(
        (reply.status, outcome(&reply).as_str()),
        (403, "user_disabled")
    );
    world.set_user("alice", "active");
    assert_eq!(outcome(&world.start_as("alice", NOW)), "");
    // Three failures lock; the lock lifts by itself after two minutes.
    world.set_realm_policy(json!({"lockout": {"threshold": 3, "auto_unlock_minutes": 2}}));
    let session = world.session("alice", NOW);
    let wrong = if totp().code_at(NOW) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let attempts: Vec<Value> = (0..3)
        .map(|_| world.passcode(&session, wrong, NOW).json()["error"]["code"].clone())
        .collect();
    assert_eq!(
        attempts,
        ["invalid_passcode", "invalid_passcode", "locked_out"]
    );
    assert_eq!(outcome(&world.start_as("alice", NOW + 119)), "locked_out");
    let session = world.session("alice", NOW + 120);
    let done = world.passcode(&session, &totp().code_at(NOW + 120), NOW + 120);
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(world.stores.record(&alice()).unwrap().lockout.failures, 0);
    // Setting the status to active unlocks at once.
    let session = world.session("alice", NOW + 200);
    for _ in 0..3 {
        world.passcode(&session, wrong, NOW + 200);
    }
    assert_eq!(outcome(&world.start_as("alice", NOW + 201)), "locked_out");
    world.set_user("alice", "active");
    assert_eq!(outcome(&world.start_as("alice", NOW + 201)), "");
}

#[test]
fn audit_read_and_branding() {
    let world = World::new();
    world.set_app(
        CLIENT_ID,
        json!({}),
        json!({"logo_url": "https://example.com/logo.svg", "accent_color": "#1a73e8",
               "help_url": "https://example.com/help", "manage_devices_url": "https://example.com/devices"}),
    );
    let reply = world.start_as("alice", NOW);
    assert_eq!(
        reply.json()["application"],
        json!({"name": "Tessera Demo", "logo_url": "https://example.com/logo.svg", "accent_color": "#1a73e8",
               "help_url": "https://example.com/help", "manage_devices_url": "https://example.com/devices"})
    );
    world.client.replace(from(Some("KP"), None, "203.0.113.5"));
    world.start_as("alice", NOW + 1);
    let read = |auth: &str| {
        world.send(
            request("GET", "/internal/v1/audit?realm=demo&username=alice")
                .header("authorization", auth)
                .body(Vec::new())
                .unwrap(),
            NOW,
        )
    };
    assert_eq!(read("Bearer wrong").status, 401);
    let events = read(&format!("Bearer {ADMIN_TOKEN}")).json()["events"].clone();
    assert_eq!(events.as_array().unwrap().len(), 1);
    let row = &events[0];
    assert_eq!(
        (
            &row["result"],
            &row["reason"],
            &row["country"],
            &row["ip"],
            &row["client_id"],
            &row["at"]
        ),
        (
            &json!("deny"),
            &json!("sanctioned_region"),
            &json!("KP"),
            &json!("203.0.113.5"),
            &json!(CLIENT_ID),
            &json!(NOW + 1)
        )
    );
    assert_eq!(row["txid"].as_str().unwrap().len(), 36);
    // Bad configuration is refused at the door with a 400.
    let bad = [
        json!({"realm": "demo", "policy": {"location": {"countries": {"ZZZ": "deny"}}}}),
        json!({"realm": "demo", "policy": {"lockout": {"threshold": 0}}}),
        json!({"realm": "demo", "policy": {"no_such_rule": true}}),
        json!({"realm": "demo", "users": [{"username": "x", "status": "superuser"}]}),
        json!({"realm": "demo", "applications": [{"client_id": CLIENT_ID, "client_secret": SECRET,
               "name": "x", "branding": {"accent_color": "red;}"}}]}),
        json!({"realm": "demo", "applications": [{"client_id": CLIENT_ID, "client_secret": SECRET,
               "name": "x", "branding": {"logo_url": "javascript:alert(1)"}}]}),
    ];
    for body in bad {
        let reply = world.seed(&body);
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, json!("bad_request")),
            "{body}"
        );
    }
}

#[test]
fn registry_and_one_directory_per_realm() {
    let world = World::new();
    world.set_realm_policy(json!({"authentication": "require_2fa"}));
    let other = json!({"realm": "other", "policy": {"authentication": "skip"},
        "applications": [{"client_id": SECOND_CLIENT_ID, "client_secret": SECRET, "name": "Other",
                          "origins": [RP_ORIGIN]}]});
    assert_eq!(world.seed(&other).status, 200);
    world.complete(NOW);
    assert_eq!(
        world.stores.directory_names(),
        ["[\"realm\",\"demo\"]", "[\"realm\",\"other\"]", "global"]
    );
    // Each realm's policy stays its own: `other` skips, `demo` does not.
    assert_eq!(outcome(&world.start_as("alice", NOW + 30)), "");
    let reply = world.start_remembered(SECOND_CLIENT_ID, "alice", &[], NOW + 30);
    assert_eq!(outcome(&reply), "complete", "{}", reply.text());
}
