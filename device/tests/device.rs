//! The device library and CLI: state path resolution, the state file, passcodes and
//! account selection.

// Test helpers outside `#[test]` functions fail loudly too; clippy.toml covers only the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tessera_device::{
    Account, AccountError, DeviceState, OtpAlgorithm, SelectError, StateError, Upsert,
    current_code, load, load_or_empty, resolve_state_path, save,
};
use tessera_shared::SecretString;

/// RFC 6238 Appendix B seed for SHA1, "12345678901234567890", in base32.
const RFC_SHA1_BASE32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn account(realm: &str, username: &str, edge_url: &str) -> Account {
    Account::new_totp(
        realm,
        username,
        edge_url,
        "DPTEST00000000000001",
        "Test phone",
        SecretString::from(RFC_SHA1_BASE32),
    )
    .unwrap()
}

fn state_of(accounts: Vec<Account>) -> DeviceState {
    DeviceState {
        accounts,
        ..DeviceState::default()
    }
}

// ---------------------------------------------------------------------------------------
// Path resolution

#[test]
fn state_path_resolution() {
    #[track_caller]
    fn check(env: &[(&str, &str)], expected: Option<&str>) {
        let lookup = |name: &str| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        };
        assert_eq!(
            resolve_state_path(lookup),
            expected.map(PathBuf::from),
            "env {env:?}"
        );
    }
    let all = [
        ("TESSERA_DEVICE_STATE", "/tmp/s.json"),
        ("XDG_CONFIG_HOME", "/xdg"),
        ("HOME", "/home/a"),
    ];
    check(&all, Some("/tmp/s.json"));
    check(&all[1..], Some("/xdg/tessera/device.json"));
    check(&all[2..], Some("/home/a/.config/tessera/device.json"));
    check(&[], None);
    // An explicit relative path is taken as given (relative to the working directory).
    check(
        &[("TESSERA_DEVICE_STATE", "state.json")],
        Some("state.json"),
    );
    // Empty values count as unset.
    check(
        &[("TESSERA_DEVICE_STATE", ""), ("HOME", "/home/a")],
        Some("/home/a/.config/tessera/device.json"),
    );
    check(
        &[("XDG_CONFIG_HOME", ""), ("HOME", "/home/a")],
        Some("/home/a/.config/tessera/device.json"),
    );
    // A relative XDG_CONFIG_HOME is invalid per the XDG specification and ignored.
    check(
        &[("XDG_CONFIG_HOME", "rel/config"), ("HOME", "/home/a")],
        Some("/home/a/.config/tessera/device.json"),
    );
    check(&[("XDG_CONFIG_HOME", "rel/config")], None);
}

// ---------------------------------------------------------------------------------------
// The state file

#[test]
fn state_round_trip_creates_parent_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/device.json");
    let state = state_of(vec![
        account("demo", "alice", "http://localhost:8787"),
        account("demo", "bob", "http://localhost:8787"),
    ]);
    save(&path, &state).unwrap();
    let loaded = load(&path).unwrap();
    assert_eq!(loaded.version, 1);
    assert_eq!(loaded.accounts.len(), 2);
    assert_eq!(loaded.accounts[0].username, "alice");
    assert_eq!(loaded.accounts[1].username, "bob");
    assert_eq!(
        loaded.accounts[0].totp.secret_base32.expose_secret(),
        RFC_SHA1_BASE32
    );
    // The file is in the contract's format.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        json["accounts"][0]["totp"],
        serde_json::json!({"secret_base32": RFC_SHA1_BASE32, "algorithm": "SHA1", "digits": 6, "period": 30})
    );
    assert_eq!(json["accounts"][0]["device_name"], "Test phone");
    // Saving again replaces the file and leaves no temporary file behind.
    save(&path, &loaded).unwrap();
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![OsString::from("device.json")]);
}

#[test]
fn contract_example_parses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.json");
    std::fs::write(
        &path,
        r#"{"version":1,"accounts":[{"realm":"demo","username":"alice","edge_url":"http://localhost:8787","device_id":"DPABC","device_name":"Alice's phone",
            "totp":{"secret_base32":"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ","algorithm":"SHA1","digits":6,"period":30}}]}"#,
    )
    .unwrap();
    let state = load(&path).unwrap();
    assert_eq!(state.accounts[0].totp.algorithm, OtpAlgorithm::Sha1);
    assert_eq!(current_code(&state.accounts[0], 59).unwrap(), "287082");
}

#[cfg(unix)]
#[test]
fn state_file_mode_is_0600_even_over_a_wider_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tessera/device.json");
    save(&path, &state_of(vec![])).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    save(&path, &state_of(vec![])).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn load_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.json");
    assert!(matches!(load(&path), Err(StateError::Missing { .. })));
    assert_eq!(load_or_empty(&path).unwrap().accounts.len(), 0);

    #[track_caller]
    fn check(path: &Path, content: &str, expect_version_error: bool) {
        std::fs::write(path, content).unwrap();
        let error = load(path).unwrap_err();
        match error {
            StateError::UnsupportedVersion { .. } => assert!(expect_version_error, "{content}"),
            StateError::Corrupt { .. } => assert!(!expect_version_error, "{content}"),
            other => panic!("{content}: {other:?}"),
        }
        assert!(matches!(
            load_or_empty(path),
            Err(StateError::Corrupt { .. } | StateError::UnsupportedVersion { .. })
        ));
    }
    check(&path, "", false);
    check(&path, "{not json", false);
    check(&path, r#"{"accounts":[]}"#, false);
    check(&path, r#"{"version":"1","accounts":[]}"#, false);
    check(&path, r#"{"version":1}"#, false);
    check(
        &path,
        r#"{"version":1,"accounts":[{"realm":"demo"}]}"#,
        false,
    );
    check(&path, r#"{"version":2,"accounts":[]}"#, true);
}

#[test]
fn debug_never_shows_the_secret() {
    let account = account("demo", "alice", "http://localhost:8787");
    let shown = format!("{:?}", state_of(vec![account]));
    assert!(!shown.contains(RFC_SHA1_BASE32), "{shown}");
    assert!(shown.contains("alice"));
}

// ---------------------------------------------------------------------------------------
// Passcodes

/// RFC 6238 Appendix B through the state model: each line becomes an account with the
/// algorithm's seed and 8 digits.
#[test]
fn rfc6238_appendix_b_codes() {
    let data = include_str!("../../shared/tests/data/rfc6238.txt");
    let seed = |algorithm: &str| -> (OtpAlgorithm, String) {
        let (algorithm, length) = match algorithm {
            "SHA1" => (OtpAlgorithm::Sha1, 20),
            "SHA256" => (OtpAlgorithm::Sha256, 32),
            "SHA512" => (OtpAlgorithm::Sha512, 64),
            other => panic!("unknown algorithm {other}"),
        };
        let bytes: Vec<u8> = b"1234567890".iter().copied().cycle().take(length).collect();
        (algorithm, data_encoding::BASE32.encode(&bytes))
    };
    let mut checked = 0;
    for line in data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [time, algorithm, expected] = fields.as_slice() else {
            panic!("bad line {line}");
        };
        let (algorithm, secret) = seed(algorithm);
        let mut account = account("demo", "alice", "http://localhost:8787");
        account.totp.secret_base32 = SecretString::new(secret);
        account.totp.algorithm = algorithm;
        account.totp.digits = 8;
        let now: i64 = time.parse().unwrap();
        assert_eq!(&current_code(&account, now).unwrap(), expected, "{line}");
        // The default six digits are the low digits of the same value.
        account.totp.digits = 6;
        assert_eq!(
            current_code(&account, now).unwrap(),
            expected[2..],
            "{line}"
        );
        checked += 1;
    }
    assert_eq!(checked, 18);
}

#[test]
fn account_validation() {
    #[track_caller]
    fn check(fields: [&str; 6], expected: Result<(), AccountError>) {
        let [realm, username, edge, id, name, secret] = fields;
        let result = Account::new_totp(realm, username, edge, id, name, SecretString::from(secret));
        assert_eq!(result.map(|_| ()), expected, "{fields:?}");
    }
    let ok = [
        "demo",
        "alice",
        "http://localhost:8787",
        "DP1",
        "Phone",
        RFC_SHA1_BASE32,
    ];
    check(ok, Ok(()));
    check(
        [
            "demo",
            "alice",
            "https://e.example/",
            "DP1",
            "Phone",
            "gezd gnbv gy3t qojq",
        ],
        Ok(()),
    );
    check(
        ["", "alice", "http://e", "DP1", "Phone", RFC_SHA1_BASE32],
        Err(AccountError::BadField("realm")),
    );
    check(
        [
            "demo",
            "al\nice",
            "http://e",
            "DP1",
            "Phone",
            RFC_SHA1_BASE32,
        ],
        Err(AccountError::BadField("username")),
    );
    check(
        [
            "demo",
            "alice",
            "localhost:8787",
            "DP1",
            "Phone",
            RFC_SHA1_BASE32,
        ],
        Err(AccountError::BadEdgeUrl),
    );
    check(
        ["demo", "alice", "http://e", "DP1", "Phone", "not base32!"],
        Err(AccountError::BadSecret),
    );
    // Shorter than the 80-bit floor.
    check(
        ["demo", "alice", "http://e", "DP1", "Phone", "GEZDGNBV"],
        Err(AccountError::BadSecret),
    );
}

// ---------------------------------------------------------------------------------------
// Account selection and replacement

#[test]
fn account_selection() {
    let one = state_of(vec![account("demo", "alice", "http://e")]);
    let many = state_of(vec![
        account("demo", "alice", "http://e"),
        account("demo", "bob", "http://e"),
        account("other", "bob", "http://e"),
        account("demo", "carol@example.com", "http://e"),
        account("x", "dave", "http://e1"),
        account("x", "dave", "http://e2"),
    ]);
    #[track_caller]
    fn check(state: &DeviceState, wanted: Option<&str>, expected: Result<&str, SelectError>) {
        assert_eq!(
            state.select(wanted).map(Account::label),
            expected.map(str::to_owned),
            "{wanted:?}"
        );
    }
    let labels = |state: &DeviceState| -> Vec<String> {
        state.accounts.iter().map(Account::label).collect()
    };
    check(&one, None, Ok("alice@demo"));
    check(&one, Some("alice"), Ok("alice@demo"));
    check(&one, Some("alice@demo"), Ok("alice@demo"));
    check(
        &one,
        Some("mallory"),
        Err(SelectError::Unknown {
            wanted: "mallory".into(),
            choices: labels(&one),
        }),
    );
    check(
        &one,
        Some("alice@other"),
        Err(SelectError::Unknown {
            wanted: "alice@other".into(),
            choices: labels(&one),
        }),
    );
    check(&state_of(vec![]), None, Err(SelectError::NoAccounts));
    check(
        &state_of(vec![]),
        Some("alice"),
        Err(SelectError::NoAccounts),
    );
    check(
        &many,
        None,
        Err(SelectError::AccountRequired {
            choices: labels(&many),
        }),
    );
    check(&many, Some("alice"), Ok("alice@demo"));
    check(&many, Some("bob@other"), Ok("bob@other"));
    check(
        &many,
        Some("bob"),
        Err(SelectError::Ambiguous {
            wanted: "bob".into(),
        }),
    );
    // A username containing `@`, with and without its realm.
    check(
        &many,
        Some("carol@example.com"),
        Ok("carol@example.com@demo"),
    );
    check(
        &many,
        Some("carol@example.com@demo"),
        Ok("carol@example.com@demo"),
    );
    // The same user and realm on two edges cannot be told apart by name.
    check(
        &many,
        Some("dave@x"),
        Err(SelectError::Ambiguous {
            wanted: "dave@x".into(),
        }),
    );
}

#[test]
fn upsert_replaces_same_realm_user_and_edge() {
    let mut state = DeviceState::default();
    assert_eq!(
        state.upsert(account("demo", "alice", "http://e")),
        Upsert::Added
    );
    let mut renamed = account("demo", "alice", "http://e");
    renamed.device_name = "New phone".into();
    assert_eq!(state.upsert(renamed), Upsert::Replaced);
    assert_eq!(state.accounts.len(), 1);
    assert_eq!(state.accounts[0].device_name, "New phone");
    assert_eq!(
        state.upsert(account("demo", "alice", "http://other")),
        Upsert::Added
    );
    assert_eq!(
        state.upsert(account("demo2", "alice", "http://e")),
        Upsert::Added
    );
    assert_eq!(state.accounts.len(), 3);
}

// ---------------------------------------------------------------------------------------
// The CLI

fn cli(state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera-device"))
        .args(args)
        .env("TESSERA_DEVICE_STATE", state)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cli_add_code_list() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/device.json");

    // No state yet.
    let out = cli(&path, &["code"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr,
        format!(
            "No Tessera device state at {}. Run `cargo xtask demo` or activate a device first.\n",
            path.display()
        )
    );
    assert_eq!(cli(&path, &["list"]).status.code(), Some(2));

    let add = |username: &str, name: &str| {
        cli(
            &path,
            &[
                "add-totp",
                "--realm",
                "demo",
                "--username",
                username,
                "--edge-url",
                "http://localhost:8787",
                "--secret-base32",
                RFC_SHA1_BASE32,
                "--device-name",
                name,
            ],
        )
    };
    let out = add("alice", "Alice's phone");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first_id = load(&path).unwrap().accounts[0].device_id.clone();
    assert!(
        first_id.starts_with("DP") && first_id.len() == 20,
        "{first_id}"
    );

    // One account: no --account needed; stdout is the code and a newline only.
    let out = cli(&path, &["code"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let code = text(&out.stdout);
    assert_eq!(code.len(), 7, "{code:?}");
    assert!(code.ends_with('\n') && code[..6].bytes().all(|b| b.is_ascii_digit()));

    // Re-adding replaces (idempotent) and keeps the device id.
    assert!(add("alice", "Alice's new phone").status.success());
    let state = load(&path).unwrap();
    assert_eq!(state.accounts.len(), 1);
    assert_eq!(state.accounts[0].device_id, first_id);
    assert_eq!(state.accounts[0].device_name, "Alice's new phone");

    assert!(add("bob", "Bob's phone").status.success());
    let out = cli(&path, &["list"]);
    assert!(out.status.success());
    let listed = text(&out.stdout);
    // realm, username, device name, edge URL, device id, kind.
    let rows: Vec<Vec<&str>> = listed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{listed}");
    assert_eq!(
        rows[0],
        [
            "demo",
            "alice",
            "Alice's new phone",
            "http://localhost:8787",
            first_id.as_str(),
            "totp"
        ]
    );
    assert_eq!(
        rows[1][..4],
        ["demo", "bob", "Bob's phone", "http://localhost:8787"]
    );
    assert_eq!(rows[1][5], "totp");
    assert!(!listed.contains(RFC_SHA1_BASE32));

    // Several accounts: --account is required and must name one.
    let out = cli(&path, &["code"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "Several accounts are set up; choose one with --account: alice@demo, bob@demo.\n"
    );
    let out = cli(&path, &["code", "--account", "bob@demo"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).len(), 7);
    let out = cli(&path, &["code", "--account", "mallory"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "No account mallory on this device. Accounts: alice@demo, bob@demo.\n"
    );
}

#[test]
fn cli_refuses_bad_input_and_corrupt_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.json");
    let out = cli(
        &path,
        &[
            "add-totp",
            "--realm",
            "demo",
            "--username",
            "alice",
            "--edge-url",
            "http://localhost:8787",
            "--secret-base32",
            "tooshort",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("base32"));
    assert!(!path.exists());

    std::fs::write(&path, "{corrupt").unwrap();
    for args in [&["code"][..], &["list"][..]] {
        let out = cli(&path, args);
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with("The Tessera device state at "),
            "{stderr}"
        );
        assert!(stderr.contains("is corrupt"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    // A corrupt file is never overwritten by add-totp.
    let out = cli(
        &path,
        &[
            "add-totp",
            "--realm",
            "demo",
            "--username",
            "alice",
            "--edge-url",
            "http://localhost:8787",
            "--secret-base32",
            RFC_SHA1_BASE32,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{corrupt");
}
