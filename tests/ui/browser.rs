//! Headless Chromium through chromedriver (plain HTTP on loopback), keyboard helpers and the
//! axe-core accessibility check.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const TAB: &str = "\u{e004}";
pub const ENTER: &str = "\u{e007}";
pub const SPACE: &str = "\u{e00d}";

/// A browser session; kills its chromedriver when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    axe: String,
}

impl Drop for Browser {
    /// Ends chromedriver and every Chromium process it started: they share chromedriver's
    /// process group (killing chromedriver alone left hundreds of Chromium processes behind).
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn axe_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js")
}

/// Starts chromedriver and Chromium, or — when they or axe-core are missing — fails under
/// `CI=true` and otherwise skips with a loud message (returns `None`).
pub async fn start() -> Option<Browser> {
    let missing: Vec<String> = [Path::new(CHROMIUM).to_path_buf(), Path::new(CHROMEDRIVER).to_path_buf(), axe_path()]
        .into_iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !missing.is_empty() {
        let message = format!(
            "UI TESTS NOT RUN: missing {}. Run scripts/install-ui-test-deps.sh (apt chromium chromium-driver, npm ci).",
            missing.join(", ")
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("\n!!!!!!!!!! {message} !!!!!!!!!!\n");
        return None;
    }
    let (driver, port) = driver_with_port().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last_error = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                let axe = std::fs::read_to_string(axe_path()).expect("axe-core readable");
                return Some(Browser { client, driver, _profile: profile, axe });
            }
            Err(err) => last_error = Some(err),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("cannot connect to chromedriver: {last_error:?}");
}

/// Starts chromedriver on a free port and reads which. Port 0: chromedriver binds a free port
/// itself and names it (a port picked here and given back could be taken by another test's server
/// before chromedriver binds it). A chromedriver that ends without naming one (seen once in CI,
/// under load, among hundreds of starts) is started again, up to three times in all; the last
/// one's errors are in the failure.
async fn driver_with_port() -> (Child, u16) {
    let mut errors = String::new();
    for _ in 0..3 {
        let mut driver = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromedriver starts");
        let stdout = driver.stdout.take().expect("chromedriver's output");
        let stderr = driver.stderr.take().expect("chromedriver's errors");
        // Read on, so that chromedriver never waits on a full pipe.
        let errors_read = std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
            let first: Vec<String> = lines.by_ref().take(50).collect();
            // The rest is drained, never left in a full pipe.
            lines.for_each(drop);
            first.join("\n")
        });
        let port = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let port = lines.by_ref().map_while(Result::ok).find_map(|line| {
                let (_, rest) = line.split_once("started successfully on port ")?;
                rest.trim_end_matches(['.', ' ']).parse::<u16>().ok()
            });
            std::thread::spawn(move || lines.for_each(drop));
            port
        })
        .await
        .expect("reading chromedriver's output");
        if let Some(port) = port {
            return (driver, port);
        }
        let _ = driver.kill();
        let _ = driver.wait();
        errors = errors_read.join().unwrap_or_default();
    }
    panic!("chromedriver names no port, three times; its errors: {errors}");
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// The id of the focused element.
    pub async fn focused_id(&self) -> String {
        let value = self.client.execute("return document.activeElement && document.activeElement.id", vec![]).await;
        value.ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }

    /// The id of the focused element once `id` has the focus, or whatever has it after 5 s
    /// (browsers apply `autofocus` at a rendering step after the page has loaded).
    pub async fn focus_settled_on(&self, id: &str) -> String {
        for _ in 0..100 {
            if self.focused_id().await == id {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.focused_id().await
    }

    /// Presses Tab until the element `id` has focus (proves it is reachable by keyboard).
    pub async fn tab_to(&self, id: &str) {
        for _ in 0..150 {
            if self.focused_id().await == id {
                return;
            }
            self.press(TAB).await;
        }
        panic!("#{id} is not reachable with the Tab key on {}", self.client.current_url().await.expect("url"));
    }

    /// Sends keys to the focused element.
    pub async fn press(&self, keys: &str) {
        let active = self.client.active_element().await.expect("focused element");
        active.send_keys(keys).await.expect("keys");
    }

    /// Presses Enter on the focused element and waits until the page it submits or follows
    /// has loaded (the pages have no script: every Enter on a link, button or field of a form
    /// navigates). Reading the page right after the key press would read the old one.
    pub async fn enter(&self) {
        self.mark_page().await;
        self.press(ENTER).await;
        self.wait_for_new_page().await;
    }

    /// Sends `keys` (e.g. an access key with Alt) to the focused element and waits for the page
    /// they open.
    pub async fn navigate_by_keys(&self, keys: &str) {
        self.mark_page().await;
        self.press(keys).await;
        self.wait_for_new_page().await;
    }

    /// Runs `script` (which navigates, e.g. submits a form) and waits for the new page.
    pub async fn navigate_by_script(&self, script: &str) {
        self.mark_page().await;
        self.client.execute(script, vec![]).await.expect("script runs");
        self.wait_for_new_page().await;
    }

    async fn mark_page(&self) {
        self.client.execute("window.__terminbuchOldPage = true;", vec![]).await.expect("mark the page");
    }

    /// Waits (up to 15 s) for a document without the mark that has finished loading.
    async fn wait_for_new_page(&self) {
        let check = "return !window.__terminbuchOldPage && document.readyState === 'complete';";
        for _ in 0..300 {
            // While the browser navigates, scripts may fail: that is "not yet".
            if let Ok(Value::Bool(true)) = self.client.execute(check, vec![]).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page loaded after Enter; still on {}", self.path().await);
    }

    /// Sets an input's or select's value by script: date and time inputs take typed text in
    /// the browser locale's format, which a test should not depend on.
    pub async fn set_value(&self, id: &str, value: &str) {
        self.client
            .execute("document.getElementById(arguments[0]).value = arguments[1];", vec![json!(id), json!(value)])
            .await
            .expect("set value");
    }

    /// Tabs to `id` and types `text` there.
    pub async fn type_into(&self, id: &str, text: &str) {
        self.tab_to(id).await;
        self.press(text).await;
    }

    /// The text of the element `css` on the current page.
    pub async fn text_of(&self, css: &str) -> String {
        let found = self.client.find(Locator::Css(css)).await;
        let element = match found {
            Ok(element) => element,
            Err(err) => panic!("{css} not found on {}: {err}", self.path().await),
        };
        element.text().await.expect("text")
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_owned()
    }

    pub async fn source(&self) -> String {
        self.client.source().await.expect("source")
    }

    /// Runs axe-core for WCAG 2.1 A and AA and fails with the violations, naming the state.
    pub async fn assert_accessible(&self, state: &str) {
        self.client.execute(&self.axe, vec![]).await.expect("inject axe-core");
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }))))
               .catch(e => done([{ id: 'axe-error', help: String(e) }]));
        "#;
        let violations = self.client.execute_async(script, vec![]).await.expect("axe runs");
        let list = violations.as_array().cloned().unwrap_or_default();
        assert!(
            list.is_empty(),
            "axe-core found {} violation(s) on {} ({state}): {}",
            list.len(),
            self.path().await,
            serde_json::to_string_pretty(&Value::Array(list)).unwrap_or_default()
        );
    }

    /// Runs axe-core at 1280 px and again at 320 px width (where tables may scroll sideways and
    /// layouts change), and checks the page does not scroll sideways at 320 px.
    pub async fn assert_accessible_at_both_widths(&self, state: &str) {
        self.assert_accessible(&format!("{state}, 1280 px")).await;
        let content = self.at_width(320).await;
        assert!(content <= 321, "page scrolls sideways at 320 px ({content} px wide): {}", self.path().await);
        self.assert_accessible(&format!("{state}, 320 px")).await;
        self.at_width(1280).await;
    }

    /// Resizes the window to `width` and waits (up to 10 s) until the page has taken it (the
    /// resize reaches the page a moment after the command returns); returns the page's content
    /// width then.
    pub async fn at_width(&self, width: u32) -> i64 {
        self.client.set_window_size(width, 900).await.expect("resize");
        for _ in 0..100 {
            let inner = self.client.execute("return window.innerWidth", vec![]).await.expect("measure");
            if inner.as_i64().is_some_and(|w| w <= i64::from(width) && w > i64::from(width) - 40) {
                let scroll = self.client.execute("return document.documentElement.scrollWidth", vec![]).await;
                return scroll.expect("measure").as_i64().unwrap_or(i64::MAX);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the window did not take {width} px");
    }

    /// Checks the page at 320 px width too (no horizontal scrolling of the page).
    pub async fn assert_fits_320(&self) {
        let content = self.at_width(320).await;
        self.at_width(1280).await;
        assert!(content <= 321, "page scrolls sideways at 320 px ({content} px wide): {}", self.path().await);
    }
}
