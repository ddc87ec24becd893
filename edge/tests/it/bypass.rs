//! Bypass codes end to end through `Edge::handle`: issued by `/internal/v1/bypass_codes`
//! (hashed before they reach the account), offered by `/prompt/v1/start`, redeemed at
//! `/prompt/v1/passcode` with uses, expiry, lockout, policy and user status applied, and
//! never stored or listed in clear.

use super::*;

impl World {
    fn start_for(&self, username: &str, now: i64) -> Reply {
        self.start_with(&client().authorize_request(username, STATE, now), now)
    }

    fn realm_policy_is(&self, policy: Value) {
        let reply = self.seed(&json!({"realm": "demo", "policy": policy}));
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    fn app_policy_is(&self, policy: Value) {
        let body = json!({"realm": "demo", "applications": [{
            "client_id": CLIENT_ID, "client_secret": SECRET, "name": "Tessera Demo",
            "origins": [RP_ORIGIN], "policy": policy}]});
        let reply = self.seed(&body);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    fn status_is(&self, username: &str, status: &str) {
        let body = json!({"realm": "demo", "users": [{"username": username, "status": status}]});
        assert_eq!(self.seed(&body).status, 200);
    }

    /// `POST /internal/v1/bypass_codes` for a demo user with `params` merged in.
    fn issue_bypass(&self, username: &str, params: Value, now: i64) -> Reply {
        let mut body = json!({"realm": "demo", "username": username});
        if let (Some(body), Some(params)) = (body.as_object_mut(), params.as_object()) {
            body.extend(params.clone());
        }
        self.send(
            request("POST", "/internal/v1/bypass_codes")
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                .header("content-type", "application/json")
                .body(body.to_string().into_bytes())
                .unwrap(),
            now,
        )
    }

    /// Issues codes and returns them in clear.
    fn bypass_codes_for(&self, username: &str, params: Value, now: i64) -> Vec<String> {
        let reply = self.issue_bypass(username, params, now);
        assert_eq!(reply.status, 200, "{}", reply.text());
        serde_json::from_value(reply.json()["codes"].clone()).unwrap()
    }

    /// `GET /internal/v1/bypass_codes`: the listed codes.
    fn list_bypass(&self, username: &str, now: i64) -> Reply {
        self.send(
            request(
                "GET",
                &format!("/internal/v1/bypass_codes?realm=demo&username={username}"),
            )
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .body(Vec::new())
            .unwrap(),
            now,
        )
    }

    fn live_bypass(&self, username: &str, now: i64) -> Vec<Value> {
        let reply = self.list_bypass(username, now);
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["bypass_codes"].as_array().unwrap().clone()
    }

    /// Starts a prompt for `username` and types `code`.
    fn redeem(&self, username: &str, code: &str, now: i64) -> Reply {
        let session = self.session(username, now);
        self.passcode(&session, code, now)
    }
}

fn methods_of(reply: &Reply) -> Vec<String> {
    reply.json()["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|option| option["method"].as_str().unwrap().to_owned())
        .collect()
}

/// `123456789` as a person might type it: `123 456 789`.
fn spaced(code: &str) -> String {
    format!("{} {} {}", &code[0..3], &code[3..6], &code[6..9])
}

/// A well-formed code that is none of `codes`.
fn other_code(codes: &[String]) -> String {
    (0u32..)
        .map(|n| format!("{:09}", 123_456_789 + n))
        .find(|candidate| !codes.contains(candidate))
        .unwrap()
}

fn bob() -> AccountKey {
    AccountKey::new("demo", "bob")
}

#[test]
fn issue_offer_redeem_once_then_refused() {
    let world = World::new();
    let codes = world.bypass_codes_for("alice", json!({"count": 2}), NOW);
    assert_eq!(codes.len(), 2);
    for code in &codes {
        assert!(
            code.len() == 9 && code.bytes().all(|b| b.is_ascii_digit()),
            "{code}"
        );
    }
    assert_ne!(codes[0], codes[1]);
    let start = world.start_for("alice", NOW);
    assert_eq!(start.status, 200, "{}", start.text());
    assert_eq!(methods_of(&start), ["passcode", "bypass_code"]);
    assert_eq!(start.json()["methods"][1], json!({"method": "bypass_code"}));
    assert_eq!(start.json()["default_method"], "passcode");

    let session = start.json()["session"].as_str().unwrap().to_owned();
    let done = world.passcode(&session, &spaced(&codes[0]), NOW);
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(
        world.exchange(&done.json(), "alice", NOW),
        ("bypass_code".into(), "valid_passcode".into())
    );
    let last = world.stores.audit(&alice()).last().cloned().unwrap();
    assert_eq!(
        (
            last.result.as_str(),
            last.reason.as_str(),
            last.factor.as_deref()
        ),
        ("allow", "valid_passcode", Some("bypass_code"))
    );

    // The same code again: refused and counted; the other still works, with hyphens.
    let again = world.redeem("alice", &codes[0], NOW + 1);
    assert_eq!(
        (again.status, again.error_code()),
        (401, json!("invalid_passcode"))
    );
    assert_eq!(again.json()["error"]["attempts_left"], 9);
    let hyphens = codes[1].replacen(&codes[1][3..6], &format!("-{}-", &codes[1][3..6]), 1);
    let other = world.redeem("alice", &hyphens, NOW + 2);
    assert_eq!(other.status, 200, "{} {hyphens}", other.text());
    assert_eq!(world.stores.record(&alice()).unwrap().lockout.failures, 0);
    assert!(world.live_bypass("alice", NOW + 2).is_empty());
    assert!(
        world.stores.bypass_rows(&alice()).is_empty(),
        "used-up codes are deleted"
    );
    // No codes left: no option.
    assert_eq!(methods_of(&world.start_for("alice", NOW + 3)), ["passcode"]);
    // A TOTP passcode still works as before.
    let totp_done = world.redeem("alice", &totp().code_at(NOW + 30), NOW + 30);
    assert_eq!(totp_done.status, 200, "{}", totp_done.text());
}

#[test]
fn reuse_count_and_expiry() {
    let world = World::new();
    let codes = world.bypass_codes_for("alice", json!({"count": 1, "reuse_count": 3}), NOW);
    let listed = world.live_bypass("alice", NOW);
    assert_eq!(listed[0]["reuse_count"], 3);
    assert_eq!(listed[0]["expiration"], Value::Null);
    assert_eq!(listed[0]["created"], NOW);
    for n in 0..3 {
        let reply = world.redeem("alice", &codes[0], NOW + n);
        assert_eq!(reply.status, 200, "use {n}: {}", reply.text());
        let left = world.live_bypass("alice", NOW + n);
        assert_eq!(left.len(), usize::from(n < 2), "after use {n}");
    }
    let fourth = world.redeem("alice", &codes[0], NOW + 3);
    assert_eq!(fourth.error_code(), json!("invalid_passcode"));

    // reuse_count 0: unlimited.
    let unlimited = world.bypass_codes_for("alice", json!({"count": 1, "reuse_count": 0}), NOW);
    for n in 0..5 {
        assert_eq!(
            world.redeem("alice", &unlimited[0], NOW + 10 + n).status,
            200
        );
    }
    assert_eq!(world.live_bypass("alice", NOW + 20)[0]["reuse_count"], 0);

    // valid_secs: usable until the last second, then refused and counted as a failure.
    let expiring =
        world.bypass_codes_for("alice", json!({"count": 1, "valid_secs": "60"}), NOW + 100);
    assert_eq!(
        world.live_bypass("alice", NOW + 100)[0]["expiration"],
        NOW + 160
    );
    let before = world.redeem("alice", &expiring[0], NOW + 159);
    assert_eq!(before.status, 200, "{}", before.text());
    let expiring =
        world.bypass_codes_for("alice", json!({"count": 1, "valid_secs": 60}), NOW + 200);
    let late = world.redeem("alice", &expiring[0], NOW + 260);
    assert_eq!(
        late.error_code(),
        json!("invalid_passcode"),
        "{}",
        late.text()
    );
    assert_eq!(world.stores.record(&alice()).unwrap().lockout.failures, 1);
    assert!(world.live_bypass("alice", NOW + 260).is_empty());
    assert!(
        world.stores.bypass_rows(&alice()).is_empty(),
        "the expired code was deleted"
    );
    assert_eq!(
        methods_of(&world.start_for("alice", NOW + 261)),
        ["passcode"]
    );
}

#[test]
fn replace_preserve_given_codes_and_the_limit() {
    let world = World::new();
    let first = world.bypass_codes_for("alice", json!({"count": 2}), NOW);
    // By default new codes replace the old ones.
    let second = world.bypass_codes_for("alice", json!({"count": 3}), NOW);
    assert_eq!(world.live_bypass("alice", NOW).len(), 3);
    let replaced = world.redeem("alice", &first[0], NOW);
    assert_eq!(replaced.error_code(), json!("invalid_passcode"));
    // preserve_existing keeps them.
    let kept = world.bypass_codes_for(
        "alice",
        json!({"count": "2", "preserve_existing": true}),
        NOW,
    );
    assert_eq!(world.live_bypass("alice", NOW).len(), 5);
    for code in [&second[0], &kept[1]] {
        assert_eq!(world.redeem("alice", code, NOW + 1).status, 200);
    }
    // Given codes are stored as given, without separators.
    let given = world.bypass_codes_for(
        "alice",
        json!({"codes": "111-222-333, 444555666", "preserve_existing": "1"}),
        NOW + 2,
    );
    assert_eq!(given, ["111222333", "444555666"]);
    assert_eq!(world.redeem("alice", "444 555 666", NOW + 3).status, 200);

    // At most 100 live codes: fill up, then one more is refused and changes nothing.
    world.bypass_codes_for("alice", json!({"count": 10}), NOW + 4);
    for _ in 0..9 {
        world.bypass_codes_for(
            "alice",
            json!({"count": 10, "preserve_existing": true}),
            NOW + 4,
        );
    }
    assert_eq!(world.live_bypass("alice", NOW + 4).len(), 100);
    let over = world.issue_bypass(
        "alice",
        json!({"count": 1, "preserve_existing": true}),
        NOW + 4,
    );
    assert_eq!(
        (over.status, over.error_code()),
        (400, json!("bad_request"))
    );
    assert!(
        over.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100")
    );
    assert_eq!(world.live_bypass("alice", NOW + 4).len(), 100);
    // Replacing is always possible.
    world.bypass_codes_for("alice", json!({"count": 1}), NOW + 5);
    assert_eq!(world.live_bypass("alice", NOW + 5).len(), 1);
}

#[test]
fn wrong_codes_count_toward_lockout() {
    let world = World::new();
    world.realm_policy_is(json!({"lockout": {"threshold": 3}}));
    let codes = world.bypass_codes_for("alice", json!({"count": 1}), NOW);
    let session = world.session("alice", NOW);
    let wrong = other_code(&codes);
    let first = world.passcode(&session, &wrong, NOW);
    assert_eq!(
        (
            first.error_code(),
            first.json()["error"]["attempts_left"].clone()
        ),
        (json!("invalid_passcode"), json!(2))
    );
    // Wrong bypass codes and wrong passcodes share one count.
    let wrong_totp = if totp().code_at(NOW) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(
        world.passcode(&session, wrong_totp, NOW).error_code(),
        json!("invalid_passcode")
    );
    assert_eq!(
        world.passcode(&session, &wrong, NOW).error_code(),
        json!("locked_out")
    );
    // Locked out: even the right code is refused, and not consumed.
    let locked = world.passcode(&session, &codes[0], NOW);
    assert_eq!(
        (locked.status, locked.error_code()),
        (403, json!("locked_out"))
    );
    assert_eq!(world.live_bypass("alice", NOW).len(), 1);
    let rows = world.stores.audit(&alice());
    let denied: Vec<_> = rows
        .iter()
        .filter(|row| row.factor.as_deref() == Some("bypass_code"))
        .map(|row| (row.result.as_str(), row.reason.as_str()))
        .collect();
    assert_eq!(
        denied,
        [("deny", "invalid_passcode"), ("deny", "invalid_passcode")]
    );
    assert_eq!(rows.last().unwrap().reason, "locked_out");
}

#[test]
fn policy_and_status_refuse_bypass_codes() {
    let world = World::new();
    let codes = world.bypass_codes_for("alice", json!({"count": 2}), NOW);
    world.app_policy_is(json!({"allowed_methods": ["passcode"]}));
    assert_eq!(methods_of(&world.start_for("alice", NOW)), ["passcode"]);
    let refused = world.redeem("alice", &codes[0], NOW);
    assert_eq!(
        (refused.status, refused.error_code()),
        (400, json!("method_unavailable"))
    );
    assert_eq!(
        world.stores.record(&alice()).unwrap().lockout.failures,
        0,
        "not a failure"
    );
    assert_eq!(world.live_bypass("alice", NOW).len(), 2, "not consumed");
    // Only bypass codes allowed: offered alone, and they work.
    world.app_policy_is(json!({"allowed_methods": ["bypass_code"]}));
    assert_eq!(methods_of(&world.start_for("alice", NOW)), ["bypass_code"]);
    assert_eq!(world.redeem("alice", &codes[0], NOW).status, 200);
    world.app_policy_is(json!({}));
    // A disabled user cannot use one.
    world.status_is("alice", "disabled");
    let session_refused = world.start_for("alice", NOW);
    assert_eq!(session_refused.error_code(), json!("user_disabled"));
    world.status_is("alice", "active");
    let session = world.session("alice", NOW);
    world.status_is("alice", "disabled");
    let disabled = world.passcode(&session, &codes[1], NOW);
    assert_eq!(disabled.error_code(), json!("user_disabled"));
    assert_eq!(world.live_bypass("alice", NOW).len(), 1);
}

#[test]
fn a_user_with_only_bypass_codes_signs_in() {
    let world = World::new();
    // bob has no devices: enrollment is required, until he holds a code.
    assert_eq!(
        world.start_for("bob", NOW).error_code(),
        json!("enrollment_required")
    );
    let codes = world.bypass_codes_for("bob", json!({"count": 1}), NOW);
    let start = world.start_for("bob", NOW);
    assert_eq!(start.status, 200, "{}", start.text());
    assert_eq!(methods_of(&start), ["bypass_code"]);
    assert_eq!(start.json()["default_method"], "bypass_code");
    let session = start.json()["session"].as_str().unwrap().to_owned();
    let done = world.passcode(&session, &codes[0], NOW);
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(
        world.exchange(&done.json(), "bob", NOW),
        ("bypass_code".into(), "valid_passcode".into())
    );
    assert_eq!(
        world.start_for("bob", NOW + 1).error_code(),
        json!("enrollment_required")
    );
    assert_eq!(world.stores.record(&bob()).unwrap().devices.len(), 0);
}

#[test]
fn codes_are_never_listed_or_stored_in_clear() {
    let world = World::new();
    let issued = world.issue_bypass("alice", json!({"count": 10, "reuse_count": 2}), NOW);
    assert_eq!(issued.status, 200, "{}", issued.text());
    let codes: Vec<String> = serde_json::from_value(issued.json()["codes"].clone()).unwrap();
    let infos = issued.json()["bypass_codes"].as_array().unwrap().clone();
    assert_eq!(infos.len(), 10);
    let list = world.list_bypass("alice", NOW);
    assert_eq!(
        list.json()["bypass_codes"],
        json!(infos),
        "the issue lists what it stored"
    );
    let rows = world.stores.bypass_rows(&alice());
    assert_eq!(rows.len(), 10);
    let stored = serde_json::to_string(&rows).unwrap();
    for code in &codes {
        assert!(!list.text().contains(code.as_str()), "listed: {code}");
        assert!(!stored.contains(code.as_str()), "stored: {code}");
    }
    for (row, info) in rows.iter().zip(&infos) {
        assert_eq!(info["bypass_code_id"], row.id);
        assert!(row.id.starts_with("DB") && row.id.len() == 20, "{}", row.id);
        // A 16-byte salt and a 32-byte HMAC, base64url: nothing shaped like a code.
        assert_eq!((row.salt.len(), row.hash.len()), (22, 43));
        assert_eq!(info.as_object().unwrap().len(), 4, "{info}");
    }
    let salts: std::collections::HashSet<&str> = rows.iter().map(|r| r.salt.as_str()).collect();
    assert_eq!(salts.len(), 10, "a salt per code");
}

#[test]
fn bad_requests_are_refused_and_change_nothing() {
    let world = World::new();
    let codes = world.bypass_codes_for("alice", json!({"count": 3}), NOW);
    let rows = [
        json!({"count": 0}),
        json!({"count": 11}),
        json!({"count": "ten"}),
        json!({"count": 2, "codes": "123456789"}),
        json!({"codes": "12345678"}),
        json!({"codes": "123456789,123456789"}),
        json!({"codes": ""}),
        json!({"reuse_count": -1}),
        json!({"valid_secs": "soon"}),
        json!({"preserve_existing": "maybe"}),
        json!({"count": [1]}),
        json!({"username": ""}),
        json!({"username": "ali\u{0}ce"}),
        json!({"realm": 7}),
    ];
    for params in rows {
        let reply = world.issue_bypass("alice", params.clone(), NOW);
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, json!("bad_request")),
            "{params}: {}",
            reply.text()
        );
    }
    let unknown = world.issue_bypass("nobody", json!({"count": 1}), NOW);
    assert_eq!(
        (unknown.status, unknown.error_code()),
        (404, json!("not_found"))
    );
    assert!(
        world
            .stores
            .record(&AccountKey::new("demo", "nobody"))
            .is_none()
    );
    let unlisted = world.list_bypass("nobody", NOW);
    assert_eq!(
        (unlisted.status, unlisted.error_code()),
        (404, json!("not_found"))
    );
    let unauthorized = world.send(
        request("POST", "/internal/v1/bypass_codes")
            .header("content-type", "application/json")
            .body(
                json!({"realm": "demo", "username": "alice"})
                    .to_string()
                    .into_bytes(),
            )
            .unwrap(),
        NOW,
    );
    assert_eq!(
        (unauthorized.status, unauthorized.error_code()),
        (401, json!("unauthorized"))
    );
    let no_query = world.send(
        request("GET", "/internal/v1/bypass_codes")
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .body(Vec::new())
            .unwrap(),
        NOW,
    );
    assert_eq!(
        (no_query.status, no_query.error_code()),
        (400, json!("bad_request"))
    );
    assert_eq!(world.live_bypass("alice", NOW).len(), 3);
    // Typed codes of the wrong shape are malformed, not failures.
    let session = world.session("alice", NOW);
    for typed in [
        "12345678a",
        "1234567890",
        "123_456_789",
        "123 456 789 0",
        "1-2-3-4-5-6-7-8-9-----",
    ] {
        let reply = world.passcode(&session, typed, NOW);
        assert_eq!(
            reply.error_code(),
            json!("bad_request"),
            "{typed}: {}",
            reply.text()
        );
    }
    assert_eq!(world.stores.record(&alice()).unwrap().lockout.failures, 0);
    assert_eq!(world.redeem("alice", &codes[2], NOW).status, 200);
}
