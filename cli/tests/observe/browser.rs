//! The dashboard in a real headless chromium (Debian's chromium + chromedriver, over WebDriver):
//! `wasmhost up --nats-url ... --dashboard` serves the page; it shows the running actor; the start
//! form starts an actor from a file with hot reload; rebuilding the file shows the new revision
//! (signed higher, or re-signed from --signing-keys); a broken rebuild keeps the revision and is
//! reported on the page. A PNG screenshot is saved and its path printed.

use std::path::PathBuf;
use std::time::Duration;

use crate::lattice_support::*;
use crate::up_support::*;
use nkeys::KeyPair;
use serde_json::json;

const ECHO_PK: &str = "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75";
const PINGER_PK: &str = "MAUJCX4BIOUCE5BGKCLKNRIT7FXES2W7WIYLTPW6LZNZHNVPL4RY4XTY";
const WAIT: Duration = Duration::from_secs(60);

const ACTOR_ROW: &str = "return [...document.querySelectorAll('#actors tr')].some(r => r.dataset.actor === arguments[0] && (arguments[1] === null || r.querySelector(arguments[1]).textContent.trim() === arguments[2]));";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_starts_and_hot_reloads_an_actor_in_a_browser() {
    let nats = NatsServer::start();
    let lattice = unique_lattice("dash");
    let cluster = KeyPair::new_cluster();
    let work = std::env::temp_dir().join(format!(
        "wasmhost-dashboard-{}",
        KeyPair::new_user().public_key()[1..9].to_lowercase()
    ));
    std::fs::create_dir_all(&work).unwrap();
    let hot = work.join("echo.wasm");
    std::fs::write(&hot, echo_build(1, "v1")).unwrap();
    let pinger = examples().join("pinger.wasm").display().to_string();
    let keys = examples().join("keys").display().to_string();
    let host = UpProcess::start_in_zone(
        &nats.url(),
        &lattice,
        &cluster,
        "a",
        &[
            "--dashboard",
            "127.0.0.1:0",
            "--actor",
            &pinger,
            "--signing-keys",
            &keys,
        ],
        &[],
    );
    let url = host.line_after("dashboard: ");

    let driver = crate::webdriver::Driver::start();
    let page = driver.session().await;
    page.goto(&url).await;
    // The running actor is listed.
    page.wait_true(
        "pinger listed",
        WAIT,
        ACTOR_ROW,
        json!([PINGER_PK, null, null]),
    )
    .await;
    page.wait_true(
        "the page is live",
        WAIT,
        "return document.getElementById('status').textContent === 'live';",
        json!([]),
    )
    .await;

    // Start echo from the file with hot reload, 2 instances, through the form.
    page.eval(
        "document.getElementById('start-source').value = 'file';",
        json!([]),
    )
    .await;
    page.type_into("#start-reference", &hot.display().to_string())
        .await;
    page.click("#start-hot-reload").await;
    page.type_into("#start-count", "2").await;
    page.click("#start-submit").await;
    page.wait_true(
        "echo started with 2 instances",
        WAIT,
        ACTOR_ROW,
        json!([ECHO_PK, ".instances", "2"]),
    )
    .await;
    page.wait_true(
        "echo at revision 1",
        WAIT,
        ACTOR_ROW,
        json!([ECHO_PK, ".revision", "1"]),
    )
    .await;
    page.wait_true(
        "the watch is listed",
        WAIT,
        "return document.querySelectorAll('#watches li[data-watch]').length === 1;",
        json!([]),
    )
    .await;

    // A rebuild signed with a higher revision: live-updated, instance count kept.
    rebuild(&hot, &echo_build(5, "v5"));
    page.wait_true(
        "revision 5 shown",
        WAIT,
        ACTOR_ROW,
        json!([ECHO_PK, ".revision", "5"]),
    )
    .await;
    page.wait_true(
        "still 2 instances",
        WAIT,
        ACTOR_ROW,
        json!([ECHO_PK, ".instances", "2"]),
    )
    .await;

    // A rebuild signed with an old revision: re-signed from --signing-keys with the next one.
    rebuild(&hot, &echo_build(1, "v1-again"));
    page.wait_true(
        "revision 6 shown (re-signed)",
        WAIT,
        ACTOR_ROW,
        json!([ECHO_PK, ".revision", "6"]),
    )
    .await;

    // A broken build: the old version keeps running and the page says why.
    rebuild(&hot, b"\0asm broken build");
    page.wait_true("the refusal is reported", WAIT, "return [...document.querySelectorAll('#log li')].some(li => li.textContent.includes('rebuild refused'));", json!([])).await;
    let revision = page.eval("return document.querySelector(`#actors tr[data-actor='${arguments[0]}'] .revision`).textContent;", json!([ECHO_PK])).await;
    assert_eq!(revision, json!("6"));

    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    page.screenshot(&out).await;
    println!("dashboard screenshot: {}", out.display());
    assert!(
        std::fs::metadata(&out).unwrap().len() > 10_000,
        "the screenshot has content"
    );
    page.close().await;
    drop(host);
    std::fs::remove_dir_all(&work).unwrap();
}
