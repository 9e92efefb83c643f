//! The suite's modules form one DAG of layers (ARCHITECTURE.md, `contract-tests/`): every source file's `crate::…` and `super::…` paths are read, and a module may name only modules below it.
//!
//! Like rust-analyzer's tidy tests, this reads the source rather than trusting a convention: a
//! path that climbs (a transport module naming a check, the runner naming the report) fails
//! here with the file and the path, before it turns into a cycle someone has to untangle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's top-level modules, bottom layer first and, within a layer, in the order they may
/// name each other: a module names only itself and modules listed before it. The order inside a
/// layer keeps the modules of one layer from forming a cycle among themselves.
const LAYERS: &[(&str, &[&str])] = &[
    // No knowledge of the API: errors, safe text, JSON pointers, exact numbers, rule ids.
    ("base", &["error", "text", "pointer", "numbers", "rules"]),
    // What the API is and what the contract asks of one request.
    ("api", &["spec", "listing", "request", "hazard"]),
    // Sending a request and reading its answer.
    ("transport", &["redact", "response", "gateway", "http"]),
    // Judging one exchange, and what a run's findings are known as.
    (
        "judge",
        &["run_state", "verdict", "checks", "coverage", "baseline"],
    ),
    // Drawing cases and scenarios.
    ("generate", &["values", "cases", "scenario"]),
    // Running them against a target.
    ("run", &["partition", "runner"]),
    // Telling what a run found.
    ("report", &["report"]),
    // The crate's tests of its whole (`src/tests/`), which may name every module.
    ("tests", &["tests"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `source` with comments blanked and the contents of string and character literals dropped, so
/// that a path in a doc comment or a string is not read as a dependency. Newlines are kept, so
/// line numbers still hold.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#; its end is the quote followed by as many hashes.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some('\n') => out.push('\n'),
                    _ => {}
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                } else if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1b}'), or a lifetime ('a), which is kept.
            let end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map(|p| i + 2 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push_str("' '");
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The first segment of each path a `crate::`/root-relative path starting at `rest` names: one for
/// `listing::page_size`, several for `{listing::page_size, spec::Spec}`.
fn first_segments(rest: &str) -> Vec<String> {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut names = Vec::new();
        let mut depth = 1;
        let mut at_item_start = true;
        let mut chars = group.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => at_item_start = true,
                c if depth == 1 && at_item_start && is_ident(c) => {
                    let name: String = group[i..].chars().take_while(|&c| is_ident(c)).collect();
                    for _ in 1..name.chars().count() {
                        chars.next();
                    }
                    names.push(name);
                    at_item_start = false;
                }
                _ => {}
            }
        }
        names
    } else {
        let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
        vec![name]
    }
}

/// Every top-level module the code of one file names, with the line that names it. `module` is
/// the file's module path (`["runner", "cleanup"]`); `super::` climbs from there, counting the
/// inline modules (`mod tests { … }`) it is written in.
fn named_modules(module: &[String], code: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    // Inline modules open at the moment: (brace depth inside them, name).
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    let mut line = 1;
    let bytes: Vec<char> = code.chars().collect();
    let text: String = bytes.iter().collect();
    let mut byte_at = Vec::with_capacity(bytes.len() + 1);
    let mut b = 0;
    for c in &bytes {
        byte_at.push(b);
        b += c.len_utf8();
    }
    byte_at.push(b);
    let mut pending_mod: Option<String> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let starts_word = i == 0 || !is_ident(bytes[i - 1]);
        match c {
            '\n' => line += 1,
            '{' => {
                depth += 1;
                if let Some(name) = pending_mod.take() {
                    inline.push((depth, name));
                }
            }
            '}' => {
                if inline.last().is_some_and(|(d, _)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            ';' => pending_mod = None,
            _ => {}
        }
        let rest = &text[byte_at[i]..];
        if starts_word && rest.starts_with("mod ") {
            let name: String = rest[4..]
                .trim_start()
                .chars()
                .take_while(|&c| is_ident(c))
                .collect();
            pending_mod = Some(name);
        } else if starts_word && rest.starts_with("crate::") {
            for name in first_segments(&rest["crate::".len()..]) {
                found.push((name, line));
            }
            i += "crate::".len();
            continue;
        } else if starts_word && rest.starts_with("super::") {
            let mut climbs = 0;
            let mut after = rest;
            while let Some(r) = after.strip_prefix("super::") {
                climbs += 1;
                after = r.trim_start();
            }
            let mut path: Vec<String> = module.to_vec();
            path.extend(inline.iter().map(|(_, name)| name.clone()));
            if climbs > path.len() {
                panic!("line {line}: super:: climbs above the crate root");
            }
            path.truncate(path.len() - climbs);
            match path.first() {
                Some(top) => found.push((top.clone(), line)),
                None => {
                    for name in first_segments(after) {
                        found.push((name, line));
                    }
                }
            }
            i += rest.len() - after.len();
            continue;
        }
        i += 1;
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `runner/cleanup.rs` is `["runner", "cleanup"]`, `runner/mod.rs` is `["runner"]`, `lib.rs` is
/// `[]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The position of every module: (layer index, index within the layer).
fn positions() -> BTreeMap<&'static str, (usize, usize)> {
    let mut at = BTreeMap::new();
    for (layer, (_, modules)) in LAYERS.iter().enumerate() {
        for (index, module) in modules.iter().enumerate() {
            assert!(
                at.insert(*module, (layer, index)).is_none(),
                "{module} is in LAYERS twice"
            );
        }
    }
    at
}

/// Every path in `src/` that names a module above its own, as one line each.
fn back_edges(src: &Path) -> Vec<String> {
    let at = positions();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src").to_path_buf();
        let module = module_path(&relative);
        let Some(own) = module.first() else {
            // The crate root is the facade: it may name every module.
            continue;
        };
        let Some(&(own_layer, own_index)) = at.get(own.as_str()) else {
            problems.push(format!(
                "{}: module {own} is in no layer of LAYERS",
                relative.display()
            ));
            continue;
        };
        let source = std::fs::read_to_string(&file).expect("a source file is readable");
        let mut seen = BTreeSet::new();
        for (named, line) in named_modules(&module, &code_only(&source)) {
            if named == *own || named == "self" || named == "*" || named.is_empty() {
                continue;
            }
            let Some(&(layer, index)) = at.get(named.as_str()) else {
                // A root item (the facade's `RunError`, say) is not a module of any layer.
                continue;
            };
            let (own_name, named_name) = (LAYERS[own_layer].0, LAYERS[layer].0);
            let problem = if layer > own_layer {
                format!("names {named} of the higher layer {named_name} (it is in {own_name})")
            } else if layer == own_layer && index > own_index {
                format!("names {named}, listed after it in layer {named_name}")
            } else {
                continue;
            };
            if seen.insert((named.clone(), problem.clone())) {
                problems.push(format!("{}:{line}: {own} {problem}", relative.display()));
            }
        }
    }
    problems
}

#[test]
fn every_module_names_only_modules_below_it() {
    let problems = back_edges(&src());
    assert!(
        problems.is_empty(),
        "the module DAG of contract-tests (tests/it/layers.rs, LAYERS) is broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_layers_list_exactly_the_crates_modules() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("lib.rs is readable");
    let declared: BTreeSet<String> = code_only(&lib)
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("mod ")
                .or_else(|| line.strip_prefix("pub mod "))
                .or_else(|| line.strip_prefix("pub(crate) mod "))?;
            rest.strip_suffix(';').map(str::to_owned)
        })
        .collect();
    let listed: BTreeSet<String> = positions().keys().map(|m| m.to_string()).collect();
    assert_eq!(declared, listed, "lib.rs's modules and LAYERS differ");
}

/// The reader itself: a back-edge written in each form a path takes is found, and paths in
/// comments and strings are not.
#[test]
fn the_reader_finds_each_form_of_path() {
    let code = code_only(
        "//! crate::report::x in a doc\n\
         use crate::{text::quoted, runner::{Report, Run}};\n\
         fn f() { let s = \"crate::report\"; crate::coverage::RULES; }\n\
         /* crate::scenario */ mod tests { use super::*; use super::super::gateway::Class; }\n\
         const C: char = '{'; fn g<'a>(x: &'a str) { super::http::send(x) }\n",
    );
    let named: Vec<(String, usize)> = named_modules(&["checks".to_owned()], &code);
    let named: Vec<(&str, usize)> = named.iter().map(|(n, l)| (n.as_str(), *l)).collect();
    assert_eq!(
        named,
        [
            ("text", 2),
            ("runner", 2),
            ("coverage", 3),
            ("checks", 4),
            ("gateway", 4),
            ("http", 5),
        ]
    );
}
