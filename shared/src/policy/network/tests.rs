use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// `input` parses to `expected` (its canonical text) or fails with the error's message.
fn check(input: &str, expected: Result<&str, &str>) {
    let parsed = input.parse::<Cidr>();
    assert_eq!(
        parsed
            .as_ref()
            .map(ToString::to_string)
            .map_err(ToString::to_string),
        expected.map(str::to_owned).map_err(str::to_owned),
        "{input:?}"
    );
}

#[test]
fn parsing() {
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("192.0.2.0/24", Ok("192.0.2.0/24")),
        ("  192.0.2.0/24\n", Ok("192.0.2.0/24")),
        ("0.0.0.0/0", Ok("0.0.0.0/0")),
        ("203.0.113.7/32", Ok("203.0.113.7/32")),
        ("203.0.113.7", Ok("203.0.113.7/32")),
        ("10.0.0.0/8", Ok("10.0.0.0/8")),
        ("2001:db8::/32", Ok("2001:db8::/32")),
        ("2001:DB8::/32", Ok("2001:db8::/32")),
        ("::/0", Ok("::/0")),
        ("2001:db8::1/128", Ok("2001:db8::1/128")),
        ("2001:db8::1", Ok("2001:db8::1/128")),
        // IPv4-mapped blocks are stored in their IPv4 form.
        ("::ffff:192.0.2.0/120", Ok("192.0.2.0/24")),
        ("::ffff:192.0.2.1", Ok("192.0.2.1/32")),
        ("::ffff:0:0/96", Ok("0.0.0.0/0")),
        ("::fffe:0:0/95", Ok("::fffe:0:0/95")),
        (
            "::ffff:0:0/95",
            Err("::ffff:0:0/95 has host bits set; the network is ::fffe:0:0/95"),
        ),
        // Errors.
        ("", Err("\"\" is not an IPv4 or IPv6 address")),
        ("/24", Err("\"\" is not an IPv4 or IPv6 address")),
        ("192.0.2.0/", Err("\"\" is not a prefix length")),
        (
            "192.0.2.0/33",
            Err("the prefix length 33 is longer than 32"),
        ),
        (
            "2001:db8::/129",
            Err("the prefix length 129 is longer than 128"),
        ),
        ("192.0.2.0/256", Err("\"256\" is not a prefix length")),
        ("192.0.2.0/1000", Err("\"1000\" is not a prefix length")),
        ("192.0.2.0/-1", Err("\"-1\" is not a prefix length")),
        ("192.0.2.0/+8", Err("\"+8\" is not a prefix length")),
        ("192.0.2.0/ 24", Err("\" 24\" is not a prefix length")),
        ("192.0.2.0/24/24", Err("\"24/24\" is not a prefix length")),
        (
            "192.0.2.1/24",
            Err("192.0.2.1/24 has host bits set; the network is 192.0.2.0/24"),
        ),
        (
            "10.0.0.1/0",
            Err("10.0.0.1/0 has host bits set; the network is 0.0.0.0/0"),
        ),
        (
            "2001:db8::1/32",
            Err("2001:db8::1/32 has host bits set; the network is 2001:db8::/32"),
        ),
        (
            "256.0.0.0/8",
            Err("\"256.0.0.0\" is not an IPv4 or IPv6 address"),
        ),
        (
            "010.0.0.0/8",
            Err("\"010.0.0.0\" is not an IPv4 or IPv6 address"),
        ),
        (
            "10.0.0/24",
            Err("\"10.0.0\" is not an IPv4 or IPv6 address"),
        ),
        (
            "fe80::1%eth0/64",
            Err("\"fe80::1%eth0\" is not an IPv4 or IPv6 address"),
        ),
        (
            "example.com/24",
            Err("\"example.com\" is not an IPv4 or IPv6 address"),
        ),
        (
            "10.0.0.0-10.0.0.255",
            Err("\"10.0.0.0-10.0.0.255\" is not an IPv4 or IPv6 address"),
        ),
    ];
    for &(input, expected) in cases {
        check(input, expected);
    }
}

#[test]
fn matching() {
    // (block, address, inside)
    let cases: &[(&str, &str, bool)] = &[
        ("192.0.2.0/24", "192.0.2.0", true),
        ("192.0.2.0/24", "192.0.2.255", true),
        ("192.0.2.0/24", "192.0.3.0", false),
        ("192.0.2.0/24", "192.0.1.255", false),
        ("192.0.2.0/24", "::ffff:192.0.2.9", true),
        ("192.0.2.0/24", "::ffff:192.0.3.9", false),
        // Not IPv4-mapped: an IPv4-compatible or NAT64 address is not the IPv4 address.
        ("192.0.2.0/24", "::192.0.2.9", false),
        ("192.0.2.0/24", "64:ff9b::192.0.2.9", false),
        ("0.0.0.0/0", "255.255.255.255", true),
        ("0.0.0.0/0", "0.0.0.0", true),
        ("0.0.0.0/0", "::ffff:8.8.8.8", true),
        ("0.0.0.0/0", "2001:db8::1", false),
        ("0.0.0.0/0", "::1", false),
        ("203.0.113.7/32", "203.0.113.7", true),
        ("203.0.113.7/32", "203.0.113.6", false),
        ("203.0.113.7/32", "203.0.113.8", false),
        ("128.0.0.0/1", "127.255.255.255", false),
        ("128.0.0.0/1", "128.0.0.0", true),
        ("::/0", "2001:db8::1", true),
        ("::/0", "192.0.2.1", true),
        (
            "2001:db8::/32",
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            true,
        ),
        ("2001:db8::/32", "2001:db9::", false),
        ("2001:db8::/32", "192.0.2.1", false),
        ("2001:db8::1/128", "2001:db8::1", true),
        ("2001:db8::1/128", "2001:db8::2", false),
        ("::ffff:192.0.2.0/120", "192.0.2.77", true),
        ("::/127", "::1", true),
        ("::/128", "::1", false),
    ];
    for &(block, address, inside) in cases {
        let cidr: Cidr = block.parse().unwrap();
        assert_eq!(cidr.contains(ip(address)), inside, "{block} ∋ {address}");
    }
}

#[test]
fn decisions_combine_with_the_action() {
    let blocks = ["192.0.2.0/24", "2001:db8::/32"];
    let inside = Some(ip("192.0.2.10"));
    let inside_v6 = Some(ip("2001:db8::10"));
    let outside = Some(ip("198.51.100.1"));
    let denied = NetworkDecision::Deny {
        reason: DenyReason::NetworkNotAuthorized,
    };
    let cases: &[(NetworkAction, Option<IpAddr>, NetworkDecision)] = &[
        (
            NetworkAction::AllowWithout2fa,
            inside,
            NetworkDecision::AllowWithout2fa,
        ),
        (
            NetworkAction::AllowWithout2fa,
            inside_v6,
            NetworkDecision::AllowWithout2fa,
        ),
        (
            NetworkAction::AllowWithout2fa,
            outside,
            NetworkDecision::NoEffect,
        ),
        (
            NetworkAction::Require2fa,
            inside,
            NetworkDecision::Require2fa,
        ),
        (
            NetworkAction::Require2fa,
            outside,
            NetworkDecision::NoEffect,
        ),
        (NetworkAction::DenyOthers, inside, NetworkDecision::NoEffect),
        (
            NetworkAction::DenyOthers,
            inside_v6,
            NetworkDecision::NoEffect,
        ),
        (NetworkAction::DenyOthers, outside, denied),
        // Without the client's address the rule has no effect.
        (
            NetworkAction::AllowWithout2fa,
            None,
            NetworkDecision::NoEffect,
        ),
        (NetworkAction::DenyOthers, None, NetworkDecision::NoEffect),
    ];
    for &(action, client, expected) in cases {
        let networks = AuthorizedNetworks::parse(&blocks, action).unwrap();
        assert_eq!(networks.decide(client), expected, "{action:?} {client:?}");
    }
}

#[test]
fn network_lists() {
    let none: [&str; 0] = [];
    assert_eq!(
        AuthorizedNetworks::parse(&none, NetworkAction::DenyOthers),
        Err(NetworksError::Empty)
    );
    assert_eq!(
        AuthorizedNetworks::parse(&["10.0.0.0/8", "10.0.0.1/8"], NetworkAction::DenyOthers)
            .map_err(|e| e.to_string()),
        Err("network 1: 10.0.0.1/8 has host bits set; the network is 10.0.0.0/8".into())
    );
    let many = vec!["10.0.0.0/8"; MAX_NETWORKS + 1];
    assert_eq!(
        AuthorizedNetworks::parse(&many, NetworkAction::DenyOthers),
        Err(NetworksError::TooMany)
    );
    assert!(AuthorizedNetworks::parse(&many[1..], NetworkAction::DenyOthers).is_ok());
}
