use super::*;
use crate::policy::secrets::SecretSource;

#[test]
fn an_error_points_at_its_own_line_and_shows_the_right_form() {
    let cases = [
        (
            "[limits]\ntimeout = \"10s\"\nmemory = \"lots\"\n",
            "line 3",
            "`64MiB`",
        ),
        (
            "[connectors.atlas]\nbase_url = \"x\"\ntimeout = 3\n",
            "line 3",
            "timeout = \"20s\"",
        ),
        (
            "[host]\nplugins = \"p\"\nlease = 5\n",
            "line 3",
            "like \"15s\"",
        ),
        (
            "[api]\nmax_connections = \"x\"\n",
            "line 2",
            "whole number without quotes",
        ),
    ];
    for (text, line, form) in cases {
        let error = Settings::parse(text).map(drop).unwrap_err().to_string();
        assert!(error.contains(line), "{text:?}: {error}");
        assert!(error.contains(form), "{text:?}: {error}");
        for rust in ["usize", "u32", "expected a string", "\\u{a}"] {
            assert!(!error.contains(rust), "{text:?}: {error}");
        }
    }
}

#[test]
fn a_full_file_parses() {
    let s = Settings::parse(
        r#"
        [host]
        plugins = "p"
        [limits]
        timeout = "10s"
        [connectors.atlas]
        base_url = "https://sandbox.atriptech.com"
        allowed_hosts = ["https://sandbox.atriptech.com"]
        memory = "32MiB"
        secrets = { client_id = { env = "ATLAS_ID" }, client_secret = { file = "s/atlas" } }
        "#,
    )
    .unwrap();
    let atlas = &s.connectors["atlas"];
    assert_eq!(atlas.config["base_url"], "https://sandbox.atriptech.com");
    assert_eq!(
        atlas.secrets["client_id"],
        SecretSource::Env("ATLAS_ID".into())
    );
    let limits = s.limits_for("atlas");
    assert_eq!(limits.memory, 32 << 20);
    assert_eq!(limits.timeout, std::time::Duration::from_secs(10));
}

#[test]
fn unknown_keys_name_the_right_one() {
    let e = Settings::parse("[hots]\nplugins = \"p\"")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown field `hots`") && e.contains("host"),
        "{e}"
    );
    let e = Settings::parse("[limits]\ntimout = \"1s\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean `timeout`"), "{e}");
    let e = Settings::parse("[connectors.a]\nallowed_hosts = [\"example.com\"]")
        .unwrap_err()
        .to_string();
    assert!(e.contains("has no scheme"), "{e}");
    let e = Settings::parse("[connectors.a]\nsecrets = { k = { envv = \"X\" } }")
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean `env`"), "{e}");
}

#[test]
fn every_kind_of_mistake_is_said_at_its_line_in_plain_words() {
    let cases = [
        (
            "[connectors.a]\nunpinned = \"yes\"\n",
            "line 2",
            "true or false",
        ),
        (
            "[connectors.a]\n\nretries = 3\n",
            "line 3",
            "write `retries = \"...\"`",
        ),
        (
            "[connectors.a]\nplacements = \"declared\"\n",
            "line 2",
            "only for a file this section pins",
        ),
        (
            "[api]\ntokens = [\n  { name = \"a\", sha256 = \"00000000000000000000000000000000000000000000000000000000000000aa\", scopes = [] },\n]\n",
            "line 3",
            "has no scopes",
        ),
        (
            "[api]\ntokens = [{ name = \"a\", scopes = [\"pya\"] }]\n",
            "line 2",
            "did you mean `pay`",
        ),
        ("[host]\nlease = \"500ms\"\n", "line 2", "at least 1s"),
        ("[limits]\nmax_concurrent = 0\n", "line 2", "at least 1"),
        ("[host]\nplugins = 3\n", "line 2", "a path in quotes"),
        (
            "[connectors.a]\nallowed_hosts = [\"https://a.example\", 7]\n",
            "line 2",
            "text in quotes",
        ),
    ];
    for (text, line, words) in cases {
        let error = Settings::parse(text).map(drop).unwrap_err().to_string();
        assert!(error.contains(line), "{text:?}: {error}");
        assert!(error.contains(words), "{text:?}: {error}");
        for rust in [
            "usize",
            "u32",
            "u64",
            "sequence",
            "a map",
            "variant",
            "invalid type",
            "\\u{a}",
        ] {
            assert!(!error.contains(rust), "{text:?}: {error}");
        }
    }
}
