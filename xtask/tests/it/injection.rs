//! What a hostile server can make `cargo xtask contract` print and write: terminal escapes and forged lines in its JSON keys and its 401 body, Markdown that breaks out of `--summary-md`'s code, and keys echoed in encodings a plain search misses; and the files the run reads (`contract.txt`, a symlink to it). Each test reproduces a finding of issue 21 and passes only with its fix.

use crate::support;

use support::{contract_with_keys, relayed, run_blocking, runtime, temp_path, text, xtask};

use std::process::Command;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use reference_server::{ApiKey, Config};
use serde_json::Value;
use tokio::net::TcpListener;

/// Keys with characters that escaping changes, as in `hostile.rs`.
const KEY_A: &str = "Qa7&vX2#kP9!zM4~tR";
const KEY_B: &str = r#"Jh5"Yb1\Dc6^Fg0=wE"#;

/// Everything that acts on a terminal or a Markdown reader, with a forged closing line and a
/// forged verdict heading; `FORGED` marks the server's text wherever it lands.
const HOSTILE: &str = "FORGED\u{1b}[2K\r\u{9b}2K\u{1b}]8;;http://evil.example/\u{7}link\u{1b}]8;;\u{7}\u{202e}\u{2066}\nsummary: 1 cases, 1 requests, 0 failures, 0.01 s\r\n` \r\n\r\n## ✅ Contract suite passed FORGED\r\n| a | b |\r# FORGED heading\n> FORGED quote <b>FORGED</b>\u{7f}";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    /// Forwards, adding a hostile key (with a hostile value) to every stored config returned.
    HostileKeys,
    /// Answers every request 401 with a hostile plain-text body.
    HostileRefusal,
    /// Forwards; a 404 is answered with a `text/html` body echoing the caller's key in many
    /// encodings (see [`encoded_forms`]), one half of them on GET and the other on PATCH.
    EchoEncoded,
}

struct Proxy {
    upstream: String,
    mode: Mode,
    client: reqwest::Client,
}

async fn spawn_proxy(upstream: String, mode: Mode) -> String {
    let proxy = Arc::new(Proxy {
        upstream,
        mode,
        client: reqwest::Client::new(),
    });
    let app = Router::new().fallback(forward).with_state(proxy);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Adds the hostile key to every `simulation_config` in a response body.
fn poison(value: &mut Value) {
    let mut configs: Vec<&mut Value> = Vec::new();
    if value.pointer("/simulation/simulation_config").is_some() {
        configs.extend(value.pointer_mut("/simulation/simulation_config"));
    } else if let Some(items) = value.get_mut("simulations").and_then(Value::as_array_mut) {
        configs.extend(
            items
                .iter_mut()
                .filter_map(|s| s.get_mut("simulation_config")),
        );
    }
    for config in configs {
        if let Some(map) = config.as_object_mut() {
            map.insert(HOSTILE.to_owned(), Value::String(HOSTILE.to_owned()));
        }
    }
}

/// The key in every encoding a server may echo it in: JSON `\u` escapes (lower and upper
/// case), HTML named and numeric references (decimal, hex, without `;`), percent-encoding
/// (upper and lower case), and two mixtures.
fn encoded_forms(key: &str) -> Vec<String> {
    let each = |form: &dyn Fn(usize, char) -> String| -> String {
        key.chars().enumerate().map(|(i, c)| form(i, c)).collect()
    };
    let named = |c: char| match c {
        '&' => "&amp;".to_owned(),
        '"' => "&quot;".to_owned(),
        '\\' => "&bsol;".to_owned(),
        '#' => "&num;".to_owned(),
        '!' => "&excl;".to_owned(),
        '^' => "&Hat;".to_owned(),
        '=' => "&equals;".to_owned(),
        c => c.to_string(),
    };
    vec![
        each(&|_, c| format!("\\u{:04x}", c as u32)),
        each(&|_, c| format!("\\u{:04X}", c as u32)),
        each(&|_, c| named(c)),
        each(&|_, c| format!("&#{};", c as u32)),
        each(&|_, c| format!("&#x{:x};", c as u32)),
        each(&|_, c| format!("&#{}", c as u32)),
        each(&|_, c| format!("%{:02X}", c as u32)),
        each(&|_, c| format!("%{:02x}", c as u32)),
        each(&|i, c| match i % 4 {
            0 => format!("\\u{:04x}", c as u32),
            1 => named(c),
            2 => format!("%{:02x}", c as u32),
            _ => format!("&#x{:X};", c as u32),
        }),
        each(&|i, c| match i % 3 {
            0 => format!("%{:02X}", c as u32),
            1 => format!("&#{};", c as u32),
            _ => c.to_string(),
        }),
    ]
}

/// How many forms one 404 body carries: redacted, they fit the 120 characters a finding shows.
const FORMS_PER_BODY: usize = 5;

fn echo_page(method: &Method, authorization: &str) -> String {
    let key = authorization
        .strip_prefix("Bearer ")
        .unwrap_or(authorization);
    let forms = encoded_forms(key);
    let half = if method == Method::GET {
        &forms[..FORMS_PER_BODY]
    } else {
        &forms[FORMS_PER_BODY..]
    };
    format!("<p>{}</p>", half.join(" "))
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if proxy.mode == Mode::HostileRefusal {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(HOSTILE))
            .unwrap();
    }
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = axum::body::to_bytes(body, 16 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = proxy
        .client
        .request(parts.method.clone(), format!("{}{path}", proxy.upstream));
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE] {
        if let Some(value) = parts.headers.get(&name) {
            upstream = upstream.header(name, value);
        }
    }
    if !body.is_empty() {
        upstream = upstream.body(body);
    }
    let answer = upstream.send().await.expect("the upstream answers");
    let status = answer.status();
    let headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    if proxy.mode == Mode::EchoEncoded
        && status == StatusCode::NOT_FOUND
        && !authorization.is_empty()
        && matches!(parts.method, Method::GET | Method::PATCH)
    {
        return Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .body(Body::from(echo_page(&parts.method, &authorization)))
            .unwrap();
    }
    if proxy.mode == Mode::HostileKeys
        && status.is_success()
        && let Ok(mut json) = serde_json::from_slice::<Value>(&bytes)
    {
        poison(&mut json);
        bytes = serde_json::to_vec(&json).unwrap();
    }
    relayed(status, &headers, bytes.to_vec())
}

/// `cargo xtask contract --base-url URL ARGS…` from the debug build, keys from the environment.
fn contract(url: &str, args: &[&str]) -> Command {
    let mut command = contract_with_keys(url, (KEY_A, KEY_B));
    command.args(["--no-regressions", "--quiet"]).args(args);
    command
}

fn two_teams() -> Config {
    let mut config = Config::development();
    config.keys = vec![
        ApiKey::new(KEY_A, "team-a", "user-a"),
        ApiKey::new(KEY_B, "team-b", "user-b"),
    ];
    config
}

/// A character a terminal acts on, by the list in issue 21 (written out here, not taken from
/// the code under test): C0 but the newline, DEL, C1, the bidi controls.
fn acts_on_terminal(c: char) -> bool {
    (c < ' ' && c != '\n')
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

fn assert_terminal_safe(what: &str, output: &str) {
    if let Some((at, c)) = output.char_indices().find(|(_, c)| acts_on_terminal(*c)) {
        panic!(
            "{what} holds {c:?} at byte {at}: {:?}",
            &output[at.saturating_sub(80)..(at + 80).min(output.len())]
        );
    }
    let forged: Vec<&str> = output
        .lines()
        .filter(|l| l.starts_with("summary: 1 cases, 1 requests, 0 failures"))
        .collect();
    assert!(
        forged.is_empty(),
        "a forged line starts a line of {what}: {forged:?}"
    );
}

#[test]
fn a_server_that_sends_terminal_escapes_cannot_forge_a_line() {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(two_teams()).await.unwrap();
        let url = spawn_proxy(upstream.base_url(), Mode::HostileKeys).await;
        let summary_md = temp_path("hostile-summary.md");
        let out = run_blocking(contract(
            &url,
            &[
                "--cases",
                "20",
                "--seed",
                "3",
                "--summary-md",
                summary_md.to_str().unwrap(),
            ],
        ))
        .await;
        let json = run_blocking(contract(
            &url,
            &["--cases", "20", "--seed", "3", "--message-format", "json"],
        ))
        .await;
        let refused = spawn_proxy(upstream.base_url(), Mode::HostileRefusal).await;
        let refusal = run_blocking(contract(&refused, &["--cases", "5"])).await;
        upstream.shutdown().await;

        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
        // The hostile key was shown (escaped) where the finding names it.
        assert!(
            stdout.contains("FORGED\\u{1b}[2K\\r\\u{9b}2K"),
            "the key is shown escaped: {stdout}"
        );
        assert_terminal_safe("stdout", &stdout);
        assert_terminal_safe("stderr", &stderr);
        let real: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("summary: "))
            .collect();
        assert_eq!(real.len(), 1, "{stdout}");
        assert!(!real[0].contains(" 0 failures"), "{}", real[0]);

        let markdown = std::fs::read_to_string(&summary_md).unwrap();
        std::fs::remove_file(&summary_md).unwrap();
        assert_markdown_holds_server_text_in_code_only(&markdown);

        // JSON lines keep the server's text exactly, escaped so a terminal shows it inert.
        let lines = text(&json.stdout);
        assert_eq!(json.status.code(), Some(1), "{lines}");
        assert_terminal_safe("JSON stdout", &lines);
        assert_terminal_safe("JSON stderr", &text(&json.stderr));
        let findings: Vec<Value> = lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert!(
            findings.iter().any(|f| f["pointer"]
                .as_str()
                .is_some_and(|p| p.ends_with(&HOSTILE.replace('/', "~1")))),
            "the pointer holds the key exactly: {lines}"
        );

        let stderr = text(&refusal.stderr);
        assert_eq!(refusal.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("answered 401"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert_terminal_safe("the refusal's stderr", &stderr);
        assert_terminal_safe("the refusal's stdout", &text(&refusal.stdout));
    });
}

/// Renders `markdown` as GitHub does (CommonMark with tables) and asserts that it has exactly
/// one heading, the suite's verdict, and that the server's text (`FORGED`) appears only in code.
fn assert_markdown_holds_server_text_in_code_only(markdown: &str) {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    assert!(markdown.contains("FORGED"), "the finding is in: {markdown}");
    let mut headings = Vec::new();
    let mut in_heading = false;
    let mut in_code_block = false;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                in_heading = true;
                headings.push(String::new());
            }
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            Event::Start(Tag::BlockQuote(_)) => panic!("a block quote rendered: {markdown}"),
            Event::Text(t) | Event::Code(t) if in_heading => {
                headings.last_mut().unwrap().push_str(&t)
            }
            Event::Text(t) if !in_code_block => assert!(
                !t.contains("FORGED"),
                "server text {t:?} rendered outside code:\n{markdown}"
            ),
            Event::Html(t) | Event::InlineHtml(t) => {
                panic!("raw HTML {t:?} rendered:\n{markdown}")
            }
            _ => {}
        }
    }
    let verdicts: Vec<&String> = headings
        .iter()
        .filter(|h| h.contains("Contract suite"))
        .collect();
    assert_eq!(verdicts.len(), 1, "{headings:?}\n{markdown}");
    assert!(
        verdicts[0].starts_with("❌ Contract suite failed"),
        "{headings:?}"
    );
    assert!(
        headings.iter().all(|h| !h.contains("FORGED")),
        "{headings:?}\n{markdown}"
    );
}

/// Every run of `window` characters of `text`.
fn windows(text: &str, window: usize) -> Vec<&str> {
    (0..=text.len() - window)
        .filter(|&i| text.is_char_boundary(i) && text.is_char_boundary(i + window))
        .map(|i| &text[i..i + window])
        .collect()
}

#[test]
fn a_key_echoed_in_any_encoding_is_redacted_in_every_output() {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(two_teams()).await.unwrap();
        let url = spawn_proxy(upstream.base_url(), Mode::EchoEncoded).await;
        let junit = temp_path("encoded.xml");
        let command = contract(
            &url,
            &[
                "--cases",
                "300",
                "--seed",
                "5",
                "--junit",
                junit.to_str().unwrap(),
            ],
        );
        let out = run_blocking(command).await;
        upstream.shutdown().await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        let xml = std::fs::read_to_string(&junit).unwrap();
        std::fs::remove_file(&junit).unwrap();
        let outputs = [
            ("stdout", stdout.clone()),
            ("stderr", text(&out.stderr)),
            ("JUnit", xml),
        ];
        for key in [KEY_A, KEY_B] {
            for form in encoded_forms(key).iter().chain([&key.to_owned()]) {
                for fragment in windows(form, 8.min(form.len())) {
                    for (what, content) in &outputs {
                        assert!(
                            !content.contains(fragment),
                            "{fragment:?} of {form:?} leaked into {what}:\n{content}"
                        );
                    }
                }
            }
        }
        // Each 404 page shown has every form in it replaced whole by a key's name (a long
        // page is cut). Which key's page a finding shows depends on which case met it first,
        // which a concurrent run does not fix.
        let opening = "a body that is not JSON: \"<p>";
        let pages: Vec<&str> = stdout
            .match_indices(opening)
            .map(|(at, _)| {
                let rest = &stdout[at + opening.len()..];
                let end = rest.find(['<', '"', '…']).unwrap_or(rest.len());
                rest[..end].trim_end()
            })
            .collect();
        assert!(!pages.is_empty(), "no echo page shown: {stdout}");
        let most = FORMS_PER_BODY.max(encoded_forms(KEY_A).len() - FORMS_PER_BODY);
        for page in pages {
            let names: Vec<&str> = page.split(' ').collect();
            assert!(
                names
                    .iter()
                    .all(|n| *n == "$CONTRACT_TOKEN" || *n == "$CONTRACT_OTHER_TEAM_TOKEN"),
                "{page} in {stdout}"
            );
            assert!(names.len() <= most, "{} forms in {page}", names.len());
        }
    });
}

const SEEDS: [&str; 4] = [
    "cc 0101010101010101010101010101010101010101010101010101010101010101 # one",
    "cc 0202020202020202020202020202020202020202020202020202020202020202 # two",
    "cc 0303030303030303030303030303030303030303030303030303030303030303 # three",
    "cc 0404040404040404040404040404040404040404040404040404040404040404 # four",
];

#[test]
fn a_regressions_file_that_is_not_utf8_is_refused_and_kept() {
    let path = temp_path("contract.txt");
    let mut bytes = format!("# seeds\n{}\n{}\n", SEEDS[0], SEEDS[1]).into_bytes();
    let bad_offset = bytes.len() + 5;
    bytes.extend_from_slice(b"# caf\xe9 \xff\n");
    bytes.extend_from_slice(format!("{}\n{}\n", SEEDS[2], SEEDS[3]).as_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let out = xtask(
        &[
            "contract",
            "--cases",
            "3",
            "--regressions",
            path.to_str().unwrap(),
        ],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(path.to_str().unwrap())
            && stderr.contains(&format!("byte {bad_offset}"))
            && stderr.contains("line 4"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the file is untouched"
    );
    std::fs::remove_file(&path).unwrap();
}

#[cfg(unix)]
#[test]
fn a_regressions_path_that_is_a_symlink_is_refused_and_its_target_kept() {
    let target = temp_path("elsewhere.txt");
    let link = temp_path("linked-contract.txt");
    let kept = format!("# not the suite's\n{}\n", SEEDS[0]);
    std::fs::write(&target, &kept).unwrap();
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = xtask(
        &[
            "contract",
            "--cases",
            "3",
            "--regressions",
            link.to_str().unwrap(),
        ],
        None,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(link.to_str().unwrap()) && stderr.contains("symbolic link"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), kept);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    std::fs::remove_file(&link).unwrap();
    std::fs::remove_file(&target).unwrap();
}

#[test]
fn a_baseline_entry_expiring_in_9999_is_refused_before_the_run() {
    let path = temp_path("forever.toml");
    std::fs::write(
        &path,
        "[[known]]\ncheck = \"request_echo\"\noperation = \"get_simulation\"\npointer = \"/x\"\nreason = \"WF-9\"\nexpires = 9999-12-31\n",
    )
    .unwrap();
    let out = xtask(
        &[
            "contract",
            "--cases",
            "3",
            "--no-regressions",
            "--baseline",
            path.to_str().unwrap(),
        ],
        None,
    );
    std::fs::remove_file(&path).unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("entry 1 (request_echo on get_simulation at /x): expires 9999-12-31 is more than a year after today"),
        "{stderr}"
    );
    assert!(
        text(&out.stdout).is_empty(),
        "nothing ran: {}",
        text(&out.stdout)
    );
}
