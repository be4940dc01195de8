//! The explorer page (issue 11): `GET /` is HTML for a browser and still JSON for curl and
//! scripts; the page's assets have their own Content-Types; public reads carry CORS.

use crate::util::{HTTP_TIMEOUT, TestNode};

/// What Chromium sends when it navigates to a page.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// One GET with the given `Accept` header (or none): status, headers, body text.
fn get_with_accept(
    node: &TestNode,
    path: &str,
    accept: Option<&str>,
) -> (u16, attohttpc::header::HeaderMap, String) {
    let mut request = attohttpc::get(format!("{}{path}", node.url))
        .timeout(HTTP_TIMEOUT)
        .proxy_settings(attohttpc::ProxySettings::builder().build());
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let response = request
        .send()
        .unwrap_or_else(|e| panic!("GET {path}: no answer ({e})"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().expect("a text body");
    (status, headers, body)
}

fn header<'a>(headers: &'a attohttpc::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[test]
fn a_browser_gets_the_explorer_page_at_the_root() {
    let node = TestNode::start(&[]);
    let (status, headers, body) = get_with_accept(&node, "/", Some(BROWSER_ACCEPT));
    assert_eq!(status, 200, "GET / as a browser: {body}");
    assert_eq!(header(&headers, "Content-Type"), "text/html; charset=utf-8");
    assert!(body.starts_with("<!doctype html>"), "{body:.200}");
    assert!(body.contains(r#"<script type="module" src="/page/app.js"></script>"#));
    assert!(body.contains(r#"href="/page/style.css""#));
    assert!(
        header(&headers, "Content-Security-Policy").contains("script-src 'self'"),
        "the page runs only its own script"
    );
    // The page is also at /page/ for a link that should never fall back to JSON.
    let (status, headers, again) = get_with_accept(&node, "/page/", None);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "Content-Type"), "text/html; charset=utf-8");
    assert_eq!(again, body);
}

#[test]
fn the_page_assets_have_their_content_types() {
    let node = TestNode::start(&[]);
    let (status, headers, script) = get_with_accept(&node, "/page/app.js", None);
    assert_eq!(status, 200, "{script:.200}");
    assert_eq!(
        header(&headers, "Content-Type"),
        "text/javascript; charset=utf-8"
    );
    assert!(script.contains("from './hash.js'"), "app.js is a module");
    // Every module app.js imports is served as JavaScript too (browsers refuse others).
    for module in ["hash", "ui", "network", "tamper"] {
        let (status, headers, text) = get_with_accept(&node, &format!("/page/{module}.js"), None);
        assert_eq!(status, 200, "{module}.js: {text:.200}");
        assert_eq!(
            header(&headers, "Content-Type"),
            "text/javascript; charset=utf-8"
        );
    }
    let (_, _, hashing) = get_with_accept(&node, "/page/hash.js", None);
    assert!(hashing.contains("crypto.subtle.digest('SHA-256'"));
    let (status, headers, css) = get_with_accept(&node, "/page/style.css", None);
    assert_eq!(status, 200, "{css:.200}");
    assert_eq!(header(&headers, "Content-Type"), "text/css; charset=utf-8");
    assert!(css.contains(".block-card"));

    // Anything else under /page/ is a JSON 404; another method on an asset a JSON 405.
    let (status, headers, body) = get_with_accept(&node, "/page/nope.js", None);
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "Content-Type"), "application/json");
    let error: serde_json::Value = serde_json::from_str(&body).expect("JSON error");
    assert!(error["error"].as_str().unwrap().contains("/page/nope.js"));
    let (status, answer) = node.post("/page/app.js", &serde_json::json!({}));
    assert_eq!(status, 405, "{answer}");
    assert!(answer["error"].is_string());
}

#[test]
fn curl_and_scripts_still_get_json_at_the_root() {
    let node = TestNode::start(&[]);
    for accept in [Some("*/*"), None, Some("application/json")] {
        let (status, headers, body) = get_with_accept(&node, "/", accept);
        assert_eq!(
            header(&headers, "Content-Type"),
            "application/json",
            "Accept {accept:?}: {body}"
        );
        let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(status, 404, "Accept {accept:?}: the root stays as it was");
        assert!(
            answer["error"].as_str().unwrap().contains("/chain"),
            "the answer lists the routes: {answer}"
        );
    }
    // A browser's Accept changes nothing on the API routes.
    let (status, headers, body) = get_with_accept(&node, "/chain", Some(BROWSER_ACCEPT));
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "Content-Type"), "application/json");
    assert!(body.starts_with(r#"{"chain":"#), "{body:.200}");
}

#[test]
fn public_reads_are_readable_by_pages_of_other_nodes_and_actions_are_not() {
    let node = TestNode::start(&[]);
    for path in [
        "/chain?from=1&limit=1",
        "/inv?limit=0",
        "/pool",
        "/balances",
    ] {
        let (status, headers, body) = get_with_accept(&node, path, None);
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            header(&headers, "Access-Control-Allow-Origin"),
            "*",
            "{path}"
        );
    }
    for path in ["/mine", "/nodes/resolve", "/getblocks"] {
        let (_, headers, body) = get_with_accept(&node, path, None);
        assert_eq!(
            header(&headers, "Access-Control-Allow-Origin"),
            "",
            "{path}: {body}"
        );
    }
}
