//! Push through the core with in-memory stores: activation, signed device requests, the
//! prompt's push endpoints and what the object asks the platform to deliver. The
//! WebSocket and the long poll's waiting are the glue's, tested against workerd
//! (`tests/e2e/push.test.mjs`).

use serde_json::{Value, json};
use tessera_shared::approval::{Approval, DeviceSigningKey, sign_approval};
use tessera_shared::device_auth::{self, DeviceClaims};
use tessera_shared::v1::ApprovalDecision;

use super::{ADMIN_TOKEN, NOW, RP_ORIGIN, World, client, request};

struct Phone {
    key: DeviceSigningKey,
    device_id: String,
    username: String,
}

impl Phone {
    fn claims(&self, now: i64) -> DeviceClaims {
        DeviceClaims {
            realm: "demo".into(),
            username: self.username.clone(),
            device_id: self.device_id.clone(),
            time: now,
        }
    }

    fn header(&self, method: &str, path: &str, now: i64) -> String {
        device_auth::authorization(&self.key, &self.claims(now), method, path)
    }

    fn answer(
        &self,
        txid: &str,
        decision: ApprovalDecision,
        code: Option<&str>,
        now: i64,
    ) -> Value {
        let approval = Approval::new(txid, decision, code, now, &self.device_id).unwrap();
        serde_json::to_value(sign_approval(&self.key, &approval).to_wire()).unwrap()
    }
}

impl World {
    fn admin(&self, path: &str, body: &Value) -> super::Reply {
        self.send(
            request("POST", path)
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                .header("content-type", "application/json")
                .body(body.to_string().into_bytes())
                .unwrap(),
            NOW,
        )
    }

    fn activate(&self, username: &str, seed: u8) -> Phone {
        let issued = self.admin(
            "/internal/v1/activation",
            &json!({"realm": "demo", "username": username}),
        );
        assert_eq!(issued.status, 200, "{}", issued.text());
        let code = issued.json()["activation_code"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            issued.json()["activation_link"]
                .as_str()
                .unwrap()
                .starts_with("http://localhost:8787/device/v1/activate?realm=demo&username=")
        );
        let key = DeviceSigningKey::from_seed([seed; 32]).unwrap();
        let body = json!({"activation_code": code, "public_key": key.public_key().to_base64url(),
                          "device_name": "phone", "realm": "demo", "username": username});
        let activated = self.post_json("/device/v1/activate", &body, None, NOW);
        assert_eq!(activated.status, 200, "{}", activated.text());
        let again = self.post_json("/device/v1/activate", &body, None, NOW);
        assert_eq!(again.status, 403);
        assert_eq!(again.error_code(), "invalid_activation");
        Phone {
            key,
            device_id: activated.json()["device_id"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
        }
    }

    fn approval(&self, phone: &Phone, body: &Value, now: i64) -> super::Reply {
        self.send(
            request("POST", "/device/v1/approval")
                .header(
                    "authorization",
                    phone.header("POST", "/device/v1/approval", now),
                )
                .header("content-type", "application/json")
                .body(body.to_string().into_bytes())
                .unwrap(),
            now,
        )
    }
}

#[test]
fn verified_push_approved_completes_once_and_the_code_redeems() {
    let world = World::new();
    let phone = world.activate("carol", 3);
    let session = world.session("carol", NOW);
    let pushed = world.post_json(
        "/prompt/v1/push",
        &json!({"session": session}),
        Some(RP_ORIGIN),
        NOW,
    );
    assert_eq!(pushed.status, 200, "{}", pushed.text());
    assert_eq!(
        pushed.header("access-control-allow-origin"),
        Some(RP_ORIGIN)
    );
    let txid = pushed.json()["txid"].as_str().unwrap().to_owned();
    let code = pushed.json()["verification_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 3);
    assert_eq!(pushed.json()["expires_at"], NOW + 60);

    // The object asked the platform to deliver the push to that device.
    let effects = world.stores.push_effects.borrow().clone();
    let (device, message) = effects.last().unwrap().deliveries.first().unwrap().clone();
    assert_eq!(device, phone.device_id);
    let delivered: Value = serde_json::from_str(&message).unwrap();
    assert_eq!(delivered["txid"], txid.as_str());
    assert_eq!(delivered["verified"], true);
    assert!(!message.contains(&format!("\"{code}\"")));

    let listed = world.send(
        request("GET", "/device/v1/pushes")
            .header(
                "authorization",
                phone.header("GET", "/device/v1/pushes", NOW),
            )
            .body(Vec::new())
            .unwrap(),
        NOW,
    );
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json()["pushes"][0]["txid"], txid.as_str());

    let status = |now| {
        world.post_json(
            "/prompt/v1/push/status",
            &json!({"session": session, "txid": txid, "wait_ms": 0}),
            Some(RP_ORIGIN),
            now,
        )
    };
    assert_eq!(status(NOW).json(), json!({"state": "pending"}));
    let answer = phone.answer(&txid, ApprovalDecision::Approve, Some(&code), NOW + 1);
    let answered = world.approval(&phone, &answer, NOW + 1);
    assert_eq!(answered.status, 200, "{}", answered.text());
    assert_eq!(
        world.approval(&phone, &answer, NOW + 1).error_code(),
        "approval_refused"
    );

    let done = status(NOW + 2);
    assert_eq!(done.json()["state"], "approved");
    let code = done.json()["completion"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(status(NOW + 2).error_code(), "transaction_not_found");
    let token = world.token(&client().token_form(&code, "jti-push", NOW + 3), NOW + 3);
    assert_eq!(token.status, 200, "{}", token.text());
    let audit = world
        .stores
        .audit(&tessera_edge::account::AccountKey::new("demo", "carol"));
    let last = audit.last().unwrap();
    assert_eq!(
        (
            last.factor.as_deref(),
            last.result.as_str(),
            last.reason.as_str()
        ),
        (Some("verified_duo_push"), "allow", "user_approved")
    );
}

#[test]
fn wrong_code_fraud_mute_and_expiry() {
    let world = World::new();
    let phone = world.activate("dave", 4);
    let session = world.session("dave", NOW);
    let push = |now| world.post_json("/prompt/v1/push", &json!({"session": session}), None, now);
    let status = |txid: &str, now| {
        world
            .post_json(
                "/prompt/v1/push/status",
                &json!({"session": session, "txid": txid}),
                None,
                now,
            )
            .json()
    };
    // Wrong code: refused to the device, `wrong_code` with one attempt fewer to the prompt.
    let first = push(NOW).json();
    let txid = first["txid"].as_str().unwrap();
    let wrong = if first["verification_code"] == "000" {
        "111"
    } else {
        "000"
    };
    let refused = world.approval(
        &phone,
        &phone.answer(txid, ApprovalDecision::Approve, Some(wrong), NOW),
        NOW,
    );
    assert_eq!(refused.error_code(), "approval_refused");
    let shown = status(txid, NOW);
    assert_eq!(shown["state"], "wrong_code");
    assert_eq!(shown["error"]["attempts_left"], 9);

    // Expiry: 60 s later the push is over and a late answer is refused.
    let second = push(NOW).json();
    let txid = second["txid"].as_str().unwrap();
    assert_eq!(status(txid, NOW + 60)["state"], "expired");
    let late = phone.answer(txid, ApprovalDecision::Deny, None, NOW + 61);
    assert_eq!(
        world.approval(&phone, &late, NOW + 61).error_code(),
        "approval_refused"
    );

    // Fraud from the device: muted, and the outbox has the report.
    let third = push(NOW + 70).json();
    let txid = third["txid"].as_str().unwrap();
    let fraud = phone.answer(txid, ApprovalDecision::DenyFraud, None, NOW + 70);
    assert_eq!(
        world.approval(&phone, &fraud, NOW + 70).json()["state"],
        "fraud"
    );
    assert_eq!(push(NOW + 71).error_code(), "push_muted");
    let listed = world.send(
        request("GET", "/internal/v1/notifications?realm=demo")
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .body(Vec::new())
            .unwrap(),
        NOW,
    );
    assert_eq!(listed.json()["notifications"][0]["username"], "dave");
    assert_eq!(listed.json()["notifications"][0]["via"], "device");
    // Mute ends after an hour (a new prompt: sessions last 10 minutes).
    let later = NOW + 70 + 3600;
    let fresh = world.session("dave", later);
    let reply = world.post_json("/prompt/v1/push", &json!({"session": fresh}), None, later);
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn pushes_are_rate_limited_per_user() {
    let world = World::new();
    world.activate("erin", 5);
    let session = world.session("erin", NOW);
    for i in 0..10 {
        let reply = world.post_json(
            "/prompt/v1/push",
            &json!({"session": session}),
            None,
            NOW + i,
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let refused = world.post_json(
        "/prompt/v1/push",
        &json!({"session": session}),
        None,
        NOW + 10,
    );
    assert_eq!(
        (refused.status, refused.error_code()),
        (429, json!("rate_limited"))
    );
    // The window slides: ten minutes after the first push, one more is allowed.
    let fresh = world.session("erin", NOW + 601);
    let later = world.post_json(
        "/prompt/v1/push",
        &json!({"session": fresh}),
        None,
        NOW + 601,
    );
    assert_eq!(later.status, 200, "{}", later.text());
}

#[test]
fn the_policy_sets_the_push_rate_limit_and_which_pushes_are_offered() {
    let world = World::new();
    world.activate("fay", 6);
    let seeded = world.admin(
        "/internal/v1/seed",
        &json!({"realm": "demo", "policy": {"push_rate_limit": {"max_requests": 2, "window_minutes": 5}}}),
    );
    assert_eq!(seeded.status, 200, "{}", seeded.text());
    let session = world.session("fay", NOW);
    for i in 0..2 {
        let reply = world.post_json(
            "/prompt/v1/push",
            &json!({"session": session}),
            None,
            NOW + i,
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let refused = world.post_json(
        "/prompt/v1/push",
        &json!({"session": session}),
        None,
        NOW + 2,
    );
    assert_eq!(
        (refused.status, refused.error_code()),
        (429, json!("rate_limited"))
    );

    // Passcodes only: no push is offered at start, and none can be sent.
    let seeded = world.admin(
        "/internal/v1/seed",
        &json!({"realm": "demo", "policy": {"allowed_methods": ["passcode"]}}),
    );
    assert_eq!(seeded.status, 200, "{}", seeded.text());
    let started = world
        .start_with(
            &super::client().authorize_request("fay", super::STATE, NOW + 3),
            NOW + 3,
        )
        .json();
    let offered: Vec<&str> = started["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|option| option["method"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["passcode"]);
    let session = started["session"].as_str().unwrap();
    let refused = world.post_json(
        "/prompt/v1/push",
        &json!({"session": session}),
        None,
        NOW + 3,
    );
    assert_eq!(
        (refused.status, refused.error_code()),
        (400, json!("method_unavailable"))
    );
}
