//! The real-browser test: headless Chromium, driven through chromedriver, uses the wechat-mock
//! console and the demo account as a developer would. It opens the console, picks a fake user,
//! sends a text and sees the echo, taps the "My profile" menu button, allows on the mock's
//! consent page, and lands on the demo's profile page showing that user's nickname.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`, `chromedriver` on
//! `PATH`; Google Chrome with a matching chromedriver works too; override with `CHROMIUM=…`,
//! `CHROMEDRIVER=…`). Without them the test prints
//! "e2e skipped: …" and passes, unless `WECHAT_E2E=1` (`cargo xtask e2e`), which makes it fail;
//! `WECHAT_E2E=0` skips it even when they are there (`cargo xtask ci` runs it as its own step).
//!
//! Screenshots of the console and the profile page go to `$WECHAT_E2E_SCREENSHOTS` (the README's
//! come from `WECHAT_E2E_SCREENSHOTS=docs cargo xtask e2e`), else to the target's temp dir; on
//! a failure, a screenshot and the page's HTML go there too.

#[path = "e2e/webdriver.rs"]
mod webdriver;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use webdriver::{Driver, Result, Session, err};
use wechat_demo::{Demo, DemoConfig};

/// How long any one step may take to show up in the page.
const STEP: Duration = Duration::from_secs(15);
/// The console is a desktop page; the profile page is for phones.
const DESKTOP: (u32, u32) = (1200, 1060);
const PHONE: (u32, u32) = (420, 860);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_in_the_console_then_sign_in_on_the_profile_page() {
    let Some(tools) = Tools::find() else {
        return;
    };
    let shots = screenshot_dir();
    let demo = match Demo::start(DemoConfig::ephemeral()).await {
        Ok(demo) => demo,
        Err(e) => panic!("the demo did not start: {}", wechat_demo::error_chain(&e)),
    };
    let driver = Driver::start(&tools.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let profile_dir = tempfile::tempdir().expect("a temp dir for the browser profile");
    let session = driver
        .session(&tools.chromium, profile_dir.path(), DESKTOP)
        .await
        .unwrap_or_else(|e| panic!("cannot start Chromium: {e}"));

    let outcome = scenario(&demo, &session, &shots).await;
    if let Err(e) = &outcome {
        keep_evidence(&session, &shots).await;
        let _ = session.quit().await;
        panic!("{e}");
    }
    session
        .quit()
        .await
        .unwrap_or_else(|e| panic!("closing the browser: {e}"));
}

async fn scenario(demo: &Demo, session: &Session<'_>, shots: &Path) -> Result<()> {
    // Not the default user: the pick in the console and on the consent page has to count.
    let user = demo.mock().users()[1].clone();
    let openid = user.openid.as_str();
    let text = "hello from Chromium";

    // The console: pick the user, send a text, see the account's echo.
    session.goto(&demo.console_url()).await?;
    let option = session
        .wait_for(&format!("#user option[value=\"{openid}\"]"), STEP)
        .await?;
    session.click(&option).await?;
    let input = session.wait_for("#text", STEP).await?;
    session.send_keys(&input, text).await?;
    session.click(&session.find("#send").await?).await?;
    let echo = format!("You said: {text}");
    session
        .wait_until(
            &format!("an account bubble saying {echo:?}"),
            STEP,
            || async {
                for bubble in session.find_all(".bubble.from-account").await? {
                    if session.text(&bubble).await?.contains(&echo) {
                        return Ok(Some(()));
                    }
                }
                Ok(None)
            },
        )
        .await?;
    // A reply WeChat shows as a card.
    let input = session.find("#text").await?;
    session.send_keys(&input, "news").await?;
    session.click(&session.find("#send").await?).await?;
    session.wait_for(".news-card", STEP).await?;
    // The logs beside the phone refresh every two seconds; give them one round (best effort,
    // only the picture depends on it), and show the page from its top.
    let _ = session
        .wait_until("the push log", Duration::from_secs(3), || async {
            let logged = session
                .execute(
                    "return document.body.innerText.split('POST').length > 3;",
                    Vec::new(),
                )
                .await?;
            Ok((logged == serde_json::Value::Bool(true)).then_some(()))
        })
        .await;
    session
        .execute("window.scrollTo(0, 0);", Vec::new())
        .await?;
    save_screenshot(session, &shots.join("console.png")).await?;

    // The menu's "My profile" button opens the demo's profile page, which starts the OAuth
    // flow: the mock's consent page, as this user.
    let profile_button = format!(".menu-button[data-url=\"{}\"]", demo.profile_url());
    session
        .click(&session.wait_for(&profile_button, STEP).await?)
        .await?;
    let allow = session
        .wait_for("button[name=\"decision\"][value=\"allow\"]", STEP)
        .await?;
    session
        .click(
            &session
                .find(&format!("input[name=\"openid\"][value=\"{openid}\"]"))
                .await?,
        )
        .await?;
    session.click(&allow).await?;

    // Back on the demo, signed in: the profile page shows who.
    let nickname = session.wait_for("#nickname", STEP).await?;
    let shown = session.text(&nickname).await?;
    if shown != user.nickname {
        return Err(err(format!(
            "the profile page shows {shown:?}, expected {:?}",
            user.nickname
        )));
    }
    let url = session.url().await?;
    if !url.starts_with(&demo.profile_url()) {
        return Err(err(format!("the profile page is at {url}")));
    }
    let shown_openid = session.text(&session.find("#openid").await?).await?;
    if shown_openid != openid {
        return Err(err(format!(
            "the profile page shows the OpenID {shown_openid}"
        )));
    }
    // The page's wx.config, checked by the mock's JS-SDK against the live jsapi_ticket.
    let status = session
        .wait_until("the wx.config status", STEP, || async {
            let status = session.text(&session.find("#wx-status").await?).await?;
            Ok((!status.starts_with("Loading")).then_some(status))
        })
        .await?;
    if !status.starts_with("wx.config accepted") {
        return Err(err(format!(
            "the JS-SDK refused the page's config: {status}"
        )));
    }
    session.resize(PHONE.0, PHONE.1).await?;
    save_screenshot(session, &shots.join("profile.png")).await?;
    Ok(())
}

async fn save_screenshot(session: &Session<'_>, path: &Path) -> Result<()> {
    // Fonts and images settle a frame after the DOM does.
    let _ = session
        .execute(
            "return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));",
            Vec::new(),
        )
        .await;
    let png = session.screenshot().await?;
    std::fs::write(path, png).map_err(|e| err(format!("cannot write {}: {e}", path.display())))?;
    notice(&format!("e2e: saved {}", path.display()));
    Ok(())
}

/// A screenshot and the HTML of the page where the test failed.
async fn keep_evidence(session: &Session<'_>, shots: &Path) {
    let _ = save_screenshot(session, &shots.join("failure.png")).await;
    if let Ok(html) = session.source().await {
        let path = shots.join("failure.html");
        if std::fs::write(&path, html).is_ok() {
            notice(&format!(
                "e2e: the failing page's HTML is in {}",
                path.display()
            ));
        }
    }
}

fn screenshot_dir() -> PathBuf {
    let dir = match std::env::var_os("WECHAT_E2E_SCREENSHOTS") {
        // Relative to the workspace root, where `cargo xtask` runs.
        Some(dir) => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e"),
    };
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    // Evidence of an earlier failure would mislead.
    for stale in ["failure.png", "failure.html"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    dir
}

/// Chromium and chromedriver, found.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Tools {
    /// The browser and its driver; `None` (after saying so) when the test is to be skipped.
    fn find() -> Option<Tools> {
        let wanted = std::env::var("WECHAT_E2E").unwrap_or_default();
        if wanted == "0" {
            notice("e2e skipped: WECHAT_E2E=0");
            return None;
        }
        let chromium = program(
            "CHROMIUM",
            &[
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ],
        );
        let chromedriver = program("CHROMEDRIVER", &["chromedriver"]);
        match (chromium, chromedriver) {
            (Some(chromium), Some(chromedriver)) => Some(Tools {
                chromium,
                chromedriver,
            }),
            (chromium, _) => {
                let missing = if chromium.is_none() {
                    "chromium"
                } else {
                    "chromedriver"
                };
                let why = format!(
                    "{missing} not found (install Debian's `chromium` and `chromium-driver`, or \
                     set CHROMIUM / CHROMEDRIVER)"
                );
                if wanted == "1" {
                    panic!("WECHAT_E2E=1 but {why}");
                }
                notice(&format!(
                    "e2e skipped: {why}; WECHAT_E2E=1 makes this a failure"
                ));
                None
            }
        }
    }
}

/// `$VAR` if set, else the first of `names` in `/usr/bin` or on `PATH`.
fn program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![PathBuf::from("/usr/bin")];
    dirs.extend(std::env::split_paths(&path));
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A line on stderr that the test harness does not capture, so a skip is never silent.
fn notice(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
