//! The explorer page every node serves (issue 11): static HTML, CSS and JavaScript kept
//! as files in `src/http/page/` and embedded in the binary, so the page needs nothing but
//! the node itself (no CDN, no build step).
//!
//! **Invariant:** the page is a client like any other: it reads and acts only through the
//! JSON routes. `GET /` gives it to a browser (whose `Accept` names `text/html`); curl and
//! scripts keep today's JSON answer. Its assets live under [`ASSET_PREFIX`]; every other
//! path stays JSON. No rouille here: [`crate::http::routes`] turns a [`PageFile`] into a
//! response.

/// Where the page's own files are served; nothing else lives under it.
pub const ASSET_PREFIX: &str = "/page/";

/// Content Security Policy of the page: its own scripts and styles only, and JSON calls to
/// this node and to peers (any `http:` origin, for the fork tree).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self' http:; \
     img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// One embedded file and the Content-Type it is served with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageFile {
    /// The `Content-Type` header, charset included.
    pub content_type: &'static str,
    /// The file's text, as compiled into the binary.
    pub body: &'static str,
}

const INDEX: PageFile = PageFile {
    content_type: "text/html; charset=utf-8",
    body: include_str!("page/index.html"),
};

/// The page's files under [`ASSET_PREFIX`]: its ES modules and its style sheet.
const ASSETS: [(&str, PageFile); 7] = [
    ("/page/app.js", script(include_str!("page/app.js"))),
    ("/page/search.js", script(include_str!("page/search.js"))),
    ("/page/hash.js", script(include_str!("page/hash.js"))),
    ("/page/ui.js", script(include_str!("page/ui.js"))),
    ("/page/network.js", script(include_str!("page/network.js"))),
    ("/page/tamper.js", script(include_str!("page/tamper.js"))),
    (
        "/page/style.css",
        PageFile {
            content_type: "text/css; charset=utf-8",
            body: include_str!("page/style.css"),
        },
    ),
];

/// A JavaScript module (browsers refuse a module served with any other type).
const fn script(body: &'static str) -> PageFile {
    PageFile {
        content_type: "text/javascript; charset=utf-8",
        body,
    }
}

/// What a request for the page gets.
#[derive(Debug, PartialEq, Eq)]
pub enum PageAnswer {
    /// Serve this file with 200.
    File(PageFile),
    /// A path under [`ASSET_PREFIX`] that is no file of the page (answered as a JSON 404).
    Missing,
    /// A page path with a method other than GET (answered as a JSON 405).
    WrongMethod,
}

/// Decides whether a request is for the page: `GET /` from a browser, or any path under
/// [`ASSET_PREFIX`]. `None` means the request is for the JSON API, untouched.
pub fn answer(method: &str, path: &str, accept: Option<&str>) -> Option<PageAnswer> {
    if path == "/" {
        return (method == "GET" && accepts_html(accept?)).then_some(PageAnswer::File(INDEX));
    }
    if !path.starts_with(ASSET_PREFIX) {
        return None;
    }
    let file = if path == "/page/" || path == "/page/index.html" {
        Some(INDEX)
    } else {
        ASSETS
            .iter()
            .find(|(name, _)| *name == path)
            .map(|(_, file)| *file)
    };
    Some(match (file, method) {
        (None, _) => PageAnswer::Missing,
        (Some(file), "GET") => PageAnswer::File(file),
        (Some(_), _) => PageAnswer::WrongMethod,
    })
}

/// True when an `Accept` header names `text/html` (a browser navigating), not with a
/// zero quality. curl sends `*/*`, which does not count: scripts keep getting JSON.
fn accepts_html(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        media.eq_ignore_ascii_case("text/html") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[test]
    fn a_browser_gets_the_page_at_the_root() {
        assert_eq!(
            answer("GET", "/", Some(BROWSER)),
            Some(PageAnswer::File(INDEX))
        );
    }

    #[test]
    fn curl_and_scripts_keep_the_json_root() {
        assert_eq!(answer("GET", "/", Some("*/*")), None);
        assert_eq!(answer("GET", "/", None), None);
        assert_eq!(answer("GET", "/", Some("application/json")), None);
        assert_eq!(answer("GET", "/", Some("text/html;q=0")), None);
        assert_eq!(answer("POST", "/", Some(BROWSER)), None);
    }

    #[test]
    fn assets_have_their_content_types() {
        let Some(PageAnswer::File(js)) = answer("GET", "/page/tamper.js", None) else {
            panic!("app.js is served");
        };
        assert!(js.content_type.starts_with("text/javascript"));
        let Some(PageAnswer::File(css)) = answer("GET", "/page/style.css", None) else {
            panic!("style.css is served");
        };
        assert!(css.content_type.starts_with("text/css"));
        assert_eq!(
            answer("GET", "/page/nope.js", None),
            Some(PageAnswer::Missing)
        );
        assert_eq!(
            answer("POST", "/page/app.js", None),
            Some(PageAnswer::WrongMethod)
        );
    }
}
