//! The console in a real headless Chromium, driven over WebDriver
//! (chromedriver): sign in with a token, find an unknown payment made
//! through the API, settle it with a note and see it settled in the list
//! and the journal; a hot-added connector appears and a broken file's
//! error shows; a token without `resolve` sees no form and is refused if
//! it posts one; a supplier's message with markup stays text; no page
//! holds a card number or a CVV. Each page's screenshot is written under
//! `target/console-screenshots/`.

use crate::serve::Server;
use crate::support::probe;
use fantoccini::{Client, ClientBuilder, Locator};
use payhost_sandbox::script::{Scripted, ScriptedSupplier};
use payhost_tests::artifacts;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CARD: &str = "4111111111111111";
const CVV: &str = "7319";
/// What a hostile supplier puts in its message.
const MARKUP: &str =
    "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";

/// A chromedriver with one headless Chromium session; both stop when dropped.
struct Browser {
    driver: Child,
    client: Option<Client>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(which("chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (the test command installs Debian's chromium-driver)");
        let mut browser = Browser {
            driver,
            client: None,
        };
        let mut options = json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--lang=en-US"]
        });
        if let Some(chromium) = ["chromium", "chromium-browser"]
            .iter()
            .find_map(|b| find(b))
        {
            options["binary"] = json!(chromium.display().to_string());
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let started = Instant::now();
        let client = loop {
            let mut builder =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            match builder
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(_) if started.elapsed() < Duration::from_secs(20) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no browser session: {e}"),
            }
        };
        browser.client = Some(client);
        browser
    }

    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// Waits until `css` matches, at most 20 s.
    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.c()
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    /// Waits until the page's main part holds `text`, at most 20 s.
    async fn wait_text(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let shown = self
                .c()
                .find(Locator::Css("#main"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap_or_default();
            if shown.contains(text) {
                return shown;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{text:?} never shown; the page says:\n{shown}"
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Writes the page as it is now to `target/console-screenshots/NAME.png`.
    async fn shot(&self, name: &str) -> PathBuf {
        let png = self.c().screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// The page's HTML, checked for card data.
    async fn html_without_card_data(&self, page: &str) -> String {
        let html = self.c().source().await.unwrap();
        assert!(
            !html.contains(CARD),
            "{page}: the card number is in the page"
        );
        assert!(!html.contains(CVV), "{page}: the CVV is in the page");
        html
    }

    /// The element `css` matches now.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
    }

    async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap();
    }

    async fn type_into(&self, css: &str, text: &str) {
        self.element(css).await.send_keys(text).await.unwrap();
    }

    async fn choose(&self, css: &str, value: &str) {
        self.element(css)
            .await
            .select_by_value(value)
            .await
            .unwrap();
    }

    async fn sign_in(&self, url: &str, token: &str) {
        self.c().goto(&format!("{url}/console")).await.unwrap();
        self.wait_for("#signin:not([hidden]) #token").await;
        self.type_into("#token", token).await;
        self.click("#signin-form button").await;
        self.wait_text("Overview").await;
    }
}

fn find(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
}

fn which(name: &str) -> PathBuf {
    find(name).unwrap_or_else(|| PathBuf::from(name))
}

/// Pays through the probe's status supplier; the attempt's id and state.
async fn pay(client: &reqwest::Client, url: &str, token: &str, order: &str) -> (i64, String) {
    let answer: Value = client
        .post(format!("{url}/v1/payments"))
        .bearer_auth(token)
        .json(&json!({
            "connector": "probe", "order_id": order, "amount": "10.00", "currency": "USD",
            "idempotency_key": format!("key-{order}"), "attributes": { "action": "status" },
            "method": "card",
            "card": {"number": CARD, "expiry_month": 12, "expiry_year": 2099, "cvv": CVV,
                     "holder_first_name": "Ada", "holder_last_name": "Lovelace"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        answer["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{answer:#}")),
        answer["outcome"]["state"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_finds_and_settles_an_unknown_payment_in_a_real_browser() {
    let supplier = ScriptedSupplier::start().await.unwrap();
    use payhost::Scope::{Admin, Pay, Read, Resolve};
    let (ops, ops_line) = payhost::new_token("ops", &[Read, Resolve, Admin]);
    let (viewer, viewer_line) = payhost::new_token("viewer", &[Read]);
    let (shop, shop_line) = payhost::new_token("shop", &[Pay]);
    let extra = format!("\n[api]\ntokens = [{ops_line}, {viewer_line}, {shop_line}]\n");
    let (ws, _) = probe(&supplier.url(), &[&supplier.url()], &extra);
    let server = Server::start(ws.path());
    let url = server.url.clone();
    let http = reqwest::Client::new();

    // The console's pages keep to themselves.
    let shell = http
        .get(format!("{url}/console/payments"))
        .send()
        .await
        .unwrap();
    let policy = shell.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self'"),
        "{policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let part = http
        .get(format!("{url}/console/part/payments"))
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 401, "a part needs a token");

    // An unknown payment, a declined one whose message carries markup, and
    // one more unknown.
    supplier.answers(vec![
        Scripted::json(503, "{}"),
        Scripted::json(
            200,
            &serde_json::to_string(&json!({"status": "declined", "code": "D5", "message": MARKUP}))
                .unwrap(),
        ),
        Scripted::json(503, "{}"),
    ]);
    let (unknown, state) = pay(&http, &url, &shop, "ORD-UNKNOWN").await;
    assert_eq!(state, "unknown");
    let (declined, state) = pay(&http, &url, &shop, "ORD-MARKUP").await;
    assert_eq!(state, "failed");
    let (other, _) = pay(&http, &url, &shop, "ORD-OTHER").await;

    let browser = Browser::start().await;
    let b = &browser;
    b.sign_in(&url, &ops).await;
    b.wait_text("Not settled").await;
    b.shot("overview").await;
    b.html_without_card_data("overview").await;

    // Found in the list (what is not settled comes first) and opened.
    b.c()
        .goto(&format!("{url}/console/payments"))
        .await
        .unwrap();
    b.wait_text("ORD-UNKNOWN").await;
    b.html_without_card_data("payments").await;
    b.shot("payments").await;
    b.click(&format!("a[href='/console/payments/{unknown}']"))
        .await;
    b.wait_text("Settle it").await;
    b.html_without_card_data("payment").await;
    b.shot("payment").await;
    assert_eq!(
        b.c().current_url().await.unwrap().path(),
        format!("/console/payments/{unknown}"),
        "a payment's page has a stable URL"
    );

    // A note is required; then it is settled, by this token.
    b.choose("#r-state", "failed").await;
    b.click("button[value='state']").await;
    let notice = b
        .wait_for("#notice:not([hidden])")
        .await
        .text()
        .await
        .unwrap();
    assert!(notice.contains("note"), "{notice}");
    b.type_into("#r-note", "Supplier support: no charge").await;
    b.click("button[value='state']").await;
    let shown = b.wait_text("api:ops").await;
    assert!(shown.contains("Supplier support: no charge"), "{shown}");
    let (_, attempt) = get_with(&http, &format!("{url}/v1/payments/{unknown}"), &ops).await;
    assert_eq!(attempt["state"], "failed", "{attempt:#}");
    assert_eq!(attempt["resolved_by"], "api:ops", "{attempt:#}");
    b.c()
        .goto(&format!("{url}/console/payments?order=ORD-UNKNOWN"))
        .await
        .unwrap();
    let shown = b.wait_text("ORD-UNKNOWN").await;
    assert!(
        shown.contains("failed") && shown.contains("api:ops"),
        "{shown}"
    );

    // A supplier's markup is text on the page, and runs nothing.
    b.c()
        .goto(&format!("{url}/console/payments/{declined}"))
        .await
        .unwrap();
    let shown = b.wait_text("<img src=x").await;
    assert!(shown.contains("D5"), "{shown}");
    let title = b
        .c()
        .execute("return document.title", vec![])
        .await
        .unwrap();
    assert_eq!(title, json!("payhost console"));
    assert!(
        b.c().find(Locator::Css("#main img")).await.is_err(),
        "the markup became an element"
    );

    // Connectors: a hot-added file appears; a broken file's error shows.
    b.c()
        .goto(&format!("{url}/console/connectors"))
        .await
        .unwrap();
    b.wait_text("probe").await;
    std::fs::copy(
        artifacts::PAYHOST_ATLAS,
        ws.path().join("plugins/atlas.wasm"),
    )
    .unwrap();
    std::fs::write(ws.path().join("plugins/broken.wasm"), [0x5a; 64]).unwrap();
    b.wait_text("atlas").await;
    let shown = b.wait_text("broken.wasm").await;
    assert!(shown.contains("Files that do not load"), "{shown}");
    b.html_without_card_data("connectors").await;
    b.shot("connectors").await;

    // A token that may only read sees no form, and its post is refused.
    b.click("#signout").await;
    b.sign_in(&url, &viewer).await;
    b.c()
        .goto(&format!("{url}/console/payments/{other}"))
        .await
        .unwrap();
    b.wait_text("ORD-OTHER").await;
    assert!(
        b.c()
            .find(Locator::Css("form[data-resolve]"))
            .await
            .is_err(),
        "a reader got the form"
    );
    let status = b
        .c()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/v1/payments/' + arguments[0] + '/resolve', {method: 'POST',
               headers: {'content-type': 'application/json', 'authorization': 'Bearer ' + sessionStorage.getItem('payhost.token')},
               body: JSON.stringify({state: 'failed', note: 'not mine to settle'})}).then(r => done(r.status));",
            vec![json!(other)],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));
    let (_, attempt) = get_with(&http, &format!("{url}/v1/payments/{other}"), &ops).await;
    assert_eq!(attempt["state"], "unknown", "{attempt:#}");
    // The connectors page needs `admin`.
    b.c()
        .goto(&format!("{url}/console/connectors"))
        .await
        .unwrap();
    b.wait_text("admin").await;

    // At phone width the list still reads.
    b.c().set_window_size(390, 844).await.unwrap();
    b.c()
        .goto(&format!("{url}/console/payments"))
        .await
        .unwrap();
    b.wait_text("ORD-OTHER").await;
    b.shot("payments-phone").await;

    if let Some(client) = browser.client.as_ref() {
        let _ = client.clone().close().await;
    }
    drop(server);
}

/// `get` with a token.
async fn get_with(client: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let r = client.get(url).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
