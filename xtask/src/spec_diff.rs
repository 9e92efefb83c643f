//! `cargo xtask spec diff`: what changed between two spec documents, per operation and per schema, each change classified as breaking or not by the rules in `spec/README.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result, anyhow};
use contract_tests::RunError;
use contract_tests::pointer::unescape;
use contract_tests::text::{self, escape};
use serde_json::{Map, Value, json};

use crate::codegen;
use crate::spec::{self, HTTP_METHODS};

/// One rule of `spec/README.md` ("## Breaking-change rules"); its id is the `###` heading there
/// and the fixture directory under `xtask/tests/fixtures/spec-diff/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    OperationRemoved,
    OperationAdded,
    OperationIdChanged,
    ParameterRemoved,
    ParameterAdded,
    ParameterRequiredChanged,
    RequestBodyChanged,
    MediaTypeChanged,
    ResponseStatusRemoved,
    ResponseStatusAdded,
    SchemaRemoved,
    SchemaAdded,
    PropertyRemoved,
    PropertyAdded,
    PropertyRequiredChanged,
    TypeChanged,
    FormatChanged,
    EnumValueAdded,
    EnumValueRemoved,
    DefaultChanged,
    ConstraintTightened,
    ConstraintLoosened,
    DocumentationChanged,
    UnclassifiedChange,
}

impl Rule {
    /// Every rule, in the order of their sections in `spec/README.md`.
    #[cfg(test)]
    pub const ALL: [Rule; 24] = [
        Rule::OperationRemoved,
        Rule::OperationAdded,
        Rule::OperationIdChanged,
        Rule::ParameterRemoved,
        Rule::ParameterAdded,
        Rule::ParameterRequiredChanged,
        Rule::RequestBodyChanged,
        Rule::MediaTypeChanged,
        Rule::ResponseStatusRemoved,
        Rule::ResponseStatusAdded,
        Rule::SchemaRemoved,
        Rule::SchemaAdded,
        Rule::PropertyRemoved,
        Rule::PropertyAdded,
        Rule::PropertyRequiredChanged,
        Rule::TypeChanged,
        Rule::FormatChanged,
        Rule::EnumValueAdded,
        Rule::EnumValueRemoved,
        Rule::DefaultChanged,
        Rule::ConstraintTightened,
        Rule::ConstraintLoosened,
        Rule::DocumentationChanged,
        Rule::UnclassifiedChange,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::OperationRemoved => "operation-removed",
            Rule::OperationAdded => "operation-added",
            Rule::OperationIdChanged => "operation-id-changed",
            Rule::ParameterRemoved => "parameter-removed",
            Rule::ParameterAdded => "parameter-added",
            Rule::ParameterRequiredChanged => "parameter-required-changed",
            Rule::RequestBodyChanged => "request-body-changed",
            Rule::MediaTypeChanged => "media-type-changed",
            Rule::ResponseStatusRemoved => "response-status-removed",
            Rule::ResponseStatusAdded => "response-status-added",
            Rule::SchemaRemoved => "schema-removed",
            Rule::SchemaAdded => "schema-added",
            Rule::PropertyRemoved => "property-removed",
            Rule::PropertyAdded => "property-added",
            Rule::PropertyRequiredChanged => "property-required-changed",
            Rule::TypeChanged => "type-changed",
            Rule::FormatChanged => "format-changed",
            Rule::EnumValueAdded => "enum-value-added",
            Rule::EnumValueRemoved => "enum-value-removed",
            Rule::DefaultChanged => "default-changed",
            Rule::ConstraintTightened => "constraint-tightened",
            Rule::ConstraintLoosened => "constraint-loosened",
            Rule::DocumentationChanged => "documentation-changed",
            Rule::UnclassifiedChange => "unclassified-change",
        }
    }
}

/// Whether a schema is read by the server (request) or by the client (response): the same
/// edit breaks one side and not the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    Request,
    Response,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Request => "request",
            Direction::Response => "response",
        })
    }
}

/// Where a change is listed. The derived order is the output order: document-wide changes,
/// then operations by path and method, then component schemas by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Document,
    Operation {
        path: String,
        method: String,
        id: String,
    },
    Schema(String),
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Group::Document => f.write_str("document"),
            Group::Operation { path, method, id } => {
                write!(f, "operation {id} ({} {path})", method.to_uppercase())
            }
            Group::Schema(name) => write!(f, "schema {name}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub group: Group,
    /// Where inside the group: `response 200`, `parameter query size`, `/max_events`, or empty.
    pub location: String,
    pub what: String,
    pub rule: Rule,
    pub breaking: bool,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = if self.breaking { "BREAKING" } else { "ok" };
        let place = match self.location.as_str() {
            "" => String::new(),
            loc => format!("{loc}: "),
        };
        write!(
            f,
            "{severity:<10}{place}{}  [{}]",
            self.what,
            self.rule.id()
        )
    }
}

/// A workflow command's message: `%`, CR and LF percent-encoded (actions/toolkit's
/// `escapeData`).
fn annotation_data(message: &str) -> String {
    message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: as [`annotation_data`], and `:` and `,`, which end a
/// value (actions/toolkit's `escapeProperty`).
fn annotation_property(value: &str) -> String {
    annotation_data(value)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

impl Change {
    /// What changed and where, without the severity and the rule: `/max_events: property removed`.
    pub fn text(&self) -> String {
        match self.location.as_str() {
            "" => self.what.clone(),
            loc => format!("{loc}: {}", self.what),
        }
    }

    /// As a GitHub annotation and oasdiff's levels: `error` breaks, `notice` only documents,
    /// `warning` is any other change.
    pub fn level(&self) -> &'static str {
        match (self.breaking, self.rule) {
            (true, _) => "error",
            (false, Rule::DocumentationChanged) => "notice",
            (false, _) => "warning",
        }
    }
}

impl Group {
    /// Where the group is: the API path of an operation, the JSON pointer of a component
    /// schema, `#` for the document.
    pub fn address(&self) -> String {
        match self {
            Group::Document => "#".to_owned(),
            Group::Operation { path, .. } => path.clone(),
            Group::Schema(name) => {
                format!("{SCHEMA_PREFIX}{}", contract_tests::pointer::escape(name))
            }
        }
    }
}

/// Every change between two documents, plus which operations reach each component schema so a
/// reader sees who is affected by a schema-level change.
#[derive(Debug, Default)]
pub struct Report {
    pub changes: Vec<Change>,
    used_by: BTreeMap<String, BTreeSet<String>>,
}

impl Report {
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }

    /// The operations that reach a schema group's schema.
    fn users(&self, group: &Group) -> Option<Vec<&str>> {
        let Group::Schema(name) = group else {
            return None;
        };
        Some(self.used_by.get(name)?.iter().map(String::as_str).collect())
    }

    /// `--format json`: `{"breaking": bool, "changes": [{id, level, path, text, ...}]}`, as
    /// oasdiff's JSON names them; serialised with [`text::json_escape_unsafe`].
    pub fn to_json(&self) -> Value {
        let changes: Vec<Value> = self
            .changes
            .iter()
            .map(|c| {
                let mut change = json!({
                    "id": c.rule.id(),
                    "level": c.level(),
                    "path": c.group.address(),
                    "text": c.text(),
                    "breaking": c.breaking,
                    "group": c.group.to_string(),
                    "location": c.location,
                });
                if let Group::Operation { method, id, .. } = &c.group {
                    change["operation"] = json!(method.to_uppercase());
                    change["operation_id"] = json!(id);
                }
                if let Some(users) = self.users(&c.group) {
                    change["used_by"] = json!(users);
                }
                change
            })
            .collect();
        json!({"breaking": self.breaking() > 0, "changes": changes})
    }

    /// `--format markdown`: a heading with the counts, a section per operation or schema and
    /// an item per change; every text from the spec in a code span it cannot close.
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let breaking = self.breaking();
        let _ = writeln!(
            out,
            "## Spec changes: {breaking} breaking, {} non-breaking",
            self.changes.len() - breaking
        );
        let mut current: Option<&Group> = None;
        for change in &self.changes {
            if current != Some(&change.group) {
                let _ = writeln!(
                    out,
                    "\n### {}\n",
                    text::code_span(&change.group.to_string(), false)
                );
                if let Some(users) = self.users(&change.group) {
                    let users: Vec<String> =
                        users.iter().map(|u| text::code_span(u, false)).collect();
                    let _ = writeln!(out, "Used by {}.\n", users.join(", "));
                }
                current = Some(&change.group);
            }
            let severity = if change.breaking {
                "**BREAKING**"
            } else {
                "ok"
            };
            let _ = writeln!(
                out,
                "- {severity} {} ({})",
                text::code_span(&change.text(), false),
                text::code_span(change.rule.id(), false)
            );
        }
        if self.changes.is_empty() {
            let _ = writeln!(out, "\nNo changes.");
        }
        out
    }

    /// `--format github`: one workflow command per change, `::error` for a breaking one,
    /// `::warning` for another change of the wire or the types, `::notice` for documentation,
    /// pinned to `file`. The message is escaped for a terminal first (so a key cannot start a
    /// line or a command of its own), then `%`, CR and LF percent-encoded as GitHub reads them;
    /// property values also encode `:` and `,`.
    pub fn github(&self, file: &str) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let title = format!("{} in {}", change.rule.id(), change.group);
            out.push_str(&format!(
                "::{} file={},title={}::{}\n",
                change.level(),
                annotation_property(&escape(file)),
                annotation_property(&escape(&title)),
                annotation_data(&escape(&change.text()))
            ));
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return writeln!(f, "no changes");
        }
        let mut current: Option<&Group> = None;
        for change in &self.changes {
            if current != Some(&change.group) {
                if current.is_some() {
                    writeln!(f)?;
                }
                // Keys, paths and values are the spec author's text: escaped, each stays on
                // its line and acts on no terminal.
                write!(f, "{}", escape(&change.group.to_string()))?;
                if let Some(users) = self.users(&change.group) {
                    write!(f, "  (used by {})", escape(&users.join(", ")))?;
                }
                writeln!(f)?;
                current = Some(&change.group);
            }
            writeln!(f, "  {}", escape(&change.to_string()))?;
        }
        let breaking = self.breaking();
        writeln!(
            f,
            "\n{breaking} breaking, {} non-breaking",
            self.changes.len() - breaking
        )
    }
}

/// Compares two documents that `spec::validate` accepted (every local `$ref` resolves).
pub fn diff(old: &Value, new: &Value) -> Report {
    let mut differ = Differ {
        old,
        new,
        changes: Vec::new(),
        queue: Vec::new(),
        queued: BTreeSet::new(),
        inline_pairs: BTreeSet::new(),
    };
    differ.document();
    let mut changes = differ.changes;
    changes.sort();
    // A schema used in both directions is walked twice; a change whose meaning does not depend on
    // the direction then comes out twice, identically.
    changes.dedup();
    let mut used_by = schema_users(old);
    for (name, users) in schema_users(new) {
        used_by.entry(name).or_default().extend(users);
    }
    Report { changes, used_by }
}

/// Keywords that only document: changing them changes neither the wire nor generated types.
const DOC_KEYS: [&str; 7] = [
    "description",
    "summary",
    "title",
    "example",
    "examples",
    "$comment",
    "externalDocs",
];

/// Bounds where a smaller value accepts less, then bounds where a larger value accepts less.
const UPPER_BOUNDS: [&str; 5] = [
    "maxLength",
    "maxItems",
    "maxProperties",
    "maximum",
    "exclusiveMaximum",
];
const LOWER_BOUNDS: [&str; 5] = [
    "minLength",
    "minItems",
    "minProperties",
    "minimum",
    "exclusiveMinimum",
];

const SCHEMA_PREFIX: &str = "#/components/schemas/";

struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    changes: Vec<Change>,
    /// Component schemas reached from an operation, to be compared once per direction.
    queue: Vec<(String, Direction)>,
    queued: BTreeSet<(String, Direction)>,
    /// Pairs of differing `$ref`s compared inline, so recursive schemas terminate.
    inline_pairs: BTreeSet<(String, String)>,
}

impl Differ<'_> {
    fn push(&mut self, group: &Group, location: &str, what: String, rule: Rule, breaking: bool) {
        self.changes.push(Change {
            group: group.clone(),
            location: location.to_owned(),
            what,
            rule,
            breaking,
        });
    }

    fn document(&mut self) {
        let (old, new) = (self.old, self.new);
        let keys = union_keys(old.as_object(), new.as_object());
        for key in keys {
            let (o, n) = (old.get(&key), new.get(&key));
            match key.as_str() {
                "paths" => self.paths(),
                "components" => {}
                "info" | "openapi" => {
                    if o != n {
                        self.push(
                            &Group::Document,
                            "",
                            format!("`{key}` changed"),
                            Rule::DocumentationChanged,
                            false,
                        );
                    }
                }
                _ => self.generic(&Group::Document, "", &key, o, n),
            }
        }
        self.components();
    }

    fn paths(&mut self) {
        let empty = Map::new();
        let old_paths = self.old["paths"].as_object().unwrap_or(&empty);
        let new_paths = self.new["paths"].as_object().unwrap_or(&empty);
        for path in union_keys(Some(old_paths), Some(new_paths)) {
            let (old_item, new_item) = (old_paths.get(&path), new_paths.get(&path));
            for method in HTTP_METHODS {
                let old_op = old_item.and_then(|i| i.get(method));
                let new_op = new_item.and_then(|i| i.get(method));
                let id = new_op
                    .or(old_op)
                    .and_then(|op| op["operationId"].as_str())
                    .unwrap_or("?")
                    .to_owned();
                let group = Group::Operation {
                    path: path.clone(),
                    method: method.to_owned(),
                    id,
                };
                match (old_op, new_op) {
                    (None, None) => {}
                    (Some(_), None) => self.push(
                        &group,
                        "",
                        "operation removed".into(),
                        Rule::OperationRemoved,
                        true,
                    ),
                    (None, Some(_)) => self.push(
                        &group,
                        "",
                        "operation added".into(),
                        Rule::OperationAdded,
                        false,
                    ),
                    (Some(o), Some(n)) => {
                        let items = (
                            old_item.unwrap_or(&Value::Null),
                            new_item.unwrap_or(&Value::Null),
                        );
                        self.operation(&group, items, o, n)
                    }
                }
            }
            // Path-item keys other than operations and their shared parameters.
            if let (Some(o), Some(n)) = (old_item, new_item) {
                let group = Group::Document;
                for key in union_keys(o.as_object(), n.as_object()) {
                    if HTTP_METHODS.contains(&key.as_str()) || key == "parameters" {
                        continue;
                    }
                    let loc = format!("path {path}");
                    self.generic(&group, &loc, &key, o.get(&key), n.get(&key));
                }
            }
        }
    }

    /// Compares one operation; `items` are its path items, whose parameters it inherits.
    fn operation(&mut self, group: &Group, items: (&Value, &Value), old: &Value, new: &Value) {
        for key in union_keys(old.as_object(), new.as_object()) {
            let (o, n) = (old.get(&key), new.get(&key));
            // Bodies and responses are walked even when equal: a `$ref` in them is how a
            // changed component schema learns its direction.
            if o == n && !matches!(key.as_str(), "requestBody" | "responses") {
                continue;
            }
            match key.as_str() {
                "operationId" => self.push(
                    group,
                    "",
                    format!("operationId changed from {} to {}", show(o), show(n)),
                    Rule::OperationIdChanged,
                    true,
                ),
                "parameters" => {}
                "requestBody" => self.request_body(group, o, n),
                "responses" => self.responses(group, o, n),
                "tags" | "deprecated" => self.push(
                    group,
                    "",
                    format!("{key} changed"),
                    Rule::DocumentationChanged,
                    false,
                ),
                _ => self.generic(group, "", &key, o, n),
            }
        }
        self.parameters(group, items, old, new);
    }

    fn parameters(&mut self, group: &Group, items: (&Value, &Value), old: &Value, new: &Value) {
        let (old_item, new_item) = items;
        let old_params = effective_parameters(self.old, old_item, old);
        let new_params = effective_parameters(self.new, new_item, new);
        let keys: BTreeSet<&(String, String)> =
            old_params.keys().chain(new_params.keys()).collect();
        for key in keys {
            let loc = format!("parameter {} {}", key.0, key.1);
            let required = |p: &Value| p["required"].as_bool().unwrap_or(key.0 == "path");
            match (old_params.get(key), new_params.get(key)) {
                (None, None) => {}
                (Some(_), None) => {
                    self.push(group, &loc, "removed".into(), Rule::ParameterRemoved, true)
                }
                (None, Some(n)) => {
                    let req = required(n);
                    self.push(
                        group,
                        &loc,
                        format!("added ({})", if req { "required" } else { "optional" }),
                        Rule::ParameterAdded,
                        req,
                    );
                }
                (Some(o), Some(n)) => {
                    let (ro, rn) = (required(o), required(n));
                    if ro != rn {
                        self.push(
                            group,
                            &loc,
                            format!("became {}", if rn { "required" } else { "optional" }),
                            Rule::ParameterRequiredChanged,
                            rn,
                        );
                    }
                    for k in union_keys(o.as_object(), n.as_object()) {
                        match k.as_str() {
                            "in" | "name" | "required" => {}
                            "schema" => {
                                let (os, ns) = (&o["schema"], &n["schema"]);
                                self.schema(group, &loc, os, ns, Direction::Request);
                            }
                            "deprecated" => {
                                if o.get(&k) != n.get(&k) {
                                    self.push(
                                        group,
                                        &loc,
                                        "deprecated changed".into(),
                                        Rule::DocumentationChanged,
                                        false,
                                    );
                                }
                            }
                            _ => self.generic(group, &loc, &k, o.get(&k), n.get(&k)),
                        }
                    }
                }
            }
        }
    }

    fn request_body(&mut self, group: &Group, old: Option<&Value>, new: Option<&Value>) {
        let old = old.map(|b| resolve(self.old, b));
        let new = new.map(|b| resolve(self.new, b));
        let loc = "request body";
        let required = |b: &Value| b["required"].as_bool().unwrap_or(false);
        match (old, new) {
            (None, None) => {}
            (Some(_), None) => {
                self.push(group, loc, "removed".into(), Rule::RequestBodyChanged, true)
            }
            (None, Some(n)) => {
                let req = required(n);
                self.push(
                    group,
                    loc,
                    format!("added ({})", if req { "required" } else { "optional" }),
                    Rule::RequestBodyChanged,
                    req,
                );
            }
            (Some(o), Some(n)) => {
                if required(o) != required(n) {
                    let req = required(n);
                    self.push(
                        group,
                        loc,
                        format!("became {}", if req { "required" } else { "optional" }),
                        Rule::RequestBodyChanged,
                        req,
                    );
                }
                for k in union_keys(o.as_object(), n.as_object()) {
                    match k.as_str() {
                        "required" => {}
                        "content" => self.content(group, loc, o, n, Direction::Request),
                        _ => self.generic(group, loc, &k, o.get(&k), n.get(&k)),
                    }
                }
            }
        }
    }

    fn responses(&mut self, group: &Group, old: Option<&Value>, new: Option<&Value>) {
        let (old, new) = (
            old.and_then(Value::as_object),
            new.and_then(Value::as_object),
        );
        for status in union_keys(old, new) {
            let loc = format!("response {status}");
            let o = old
                .and_then(|m| m.get(&status))
                .map(|r| resolve(self.old, r));
            let n = new
                .and_then(|m| m.get(&status))
                .map(|r| resolve(self.new, r));
            match (o, n) {
                (None, None) => {}
                (Some(_), None) => self.push(
                    group,
                    &loc,
                    "removed".into(),
                    Rule::ResponseStatusRemoved,
                    true,
                ),
                (None, Some(_)) => self.push(
                    group,
                    &loc,
                    "added".into(),
                    Rule::ResponseStatusAdded,
                    false,
                ),
                (Some(o), Some(n)) => {
                    for k in union_keys(o.as_object(), n.as_object()) {
                        match k.as_str() {
                            "content" => self.content(group, &loc, o, n, Direction::Response),
                            _ => self.generic(group, &loc, &k, o.get(&k), n.get(&k)),
                        }
                    }
                }
            }
        }
    }

    fn content(&mut self, group: &Group, loc: &str, old: &Value, new: &Value, dir: Direction) {
        let (o, n) = (old["content"].as_object(), new["content"].as_object());
        for media in union_keys(o, n) {
            let here = if media == "application/json" {
                loc.to_owned()
            } else {
                format!("{loc} {media}")
            };
            match (o.and_then(|m| m.get(&media)), n.and_then(|m| m.get(&media))) {
                (None, None) => {}
                (Some(_), None) => self.push(
                    group,
                    loc,
                    format!("media type {media} removed"),
                    Rule::MediaTypeChanged,
                    true,
                ),
                (None, Some(_)) => self.push(
                    group,
                    loc,
                    format!("media type {media} added"),
                    Rule::MediaTypeChanged,
                    false,
                ),
                (Some(om), Some(nm)) => {
                    for k in union_keys(om.as_object(), nm.as_object()) {
                        match k.as_str() {
                            "schema" => {
                                let (os, ns) = (&om["schema"], &nm["schema"]);
                                self.schema(group, &here, os, ns, dir);
                            }
                            _ => self.generic(group, &here, &k, om.get(&k), nm.get(&k)),
                        }
                    }
                }
            }
        }
    }

    /// Component schemas: those reached from operations in the directions they were reached
    /// in, then the rest (added, removed, or reached from nowhere) as if used both ways.
    fn components(&mut self) {
        self.drain_queue();
        let empty = Map::new();
        let old_schemas = self.old["components"]["schemas"]
            .as_object()
            .unwrap_or(&empty);
        let new_schemas = self.new["components"]["schemas"]
            .as_object()
            .unwrap_or(&empty);
        for name in union_keys(Some(old_schemas), Some(new_schemas)) {
            if self.queued.iter().any(|(queued, _)| *queued == name) {
                continue;
            }
            let group = Group::Schema(name.clone());
            match (old_schemas.get(&name), new_schemas.get(&name)) {
                (None, None) => {}
                (Some(_), None) => self.push(
                    &group,
                    "",
                    "schema removed".into(),
                    Rule::SchemaRemoved,
                    true,
                ),
                (None, Some(_)) => {
                    self.push(&group, "", "schema added".into(), Rule::SchemaAdded, false)
                }
                (Some(_), Some(_)) => {
                    for dir in [Direction::Request, Direction::Response] {
                        self.queued.insert((name.clone(), dir));
                        self.queue.push((name.clone(), dir));
                    }
                    self.drain_queue();
                }
            }
        }
        let (oc, nc) = (&self.old["components"], &self.new["components"]);
        for key in ["securitySchemes", "links", "callbacks", "pathItems"] {
            self.generic(
                &Group::Document,
                "components",
                key,
                oc.get(key),
                nc.get(key),
            );
        }
    }

    fn drain_queue(&mut self) {
        while let Some((name, dir)) = self.queue.pop() {
            let (old, new) = (self.old, self.new);
            let o = old["components"]["schemas"].get(&name);
            let n = new["components"]["schemas"].get(&name);
            if let (Some(o), Some(n)) = (o, n) {
                self.schema_body(&Group::Schema(name), "", o, n, dir);
            }
        }
    }

    /// Compares two schemas at `loc`. A `$ref` to the same component on both sides is compared
    /// once, under that component's own group; differing refs are compared inline.
    fn schema(&mut self, group: &Group, loc: &str, old: &Value, new: &Value, dir: Direction) {
        let (oref, nref) = (ref_of(old), ref_of(new));
        match (oref, nref) {
            (Some(a), Some(b)) if a == b => {
                if let Some(name) = a.strip_prefix(SCHEMA_PREFIX) {
                    let name = unescape(name);
                    if self.queued.insert((name.clone(), dir)) {
                        self.queue.push((name, dir));
                    }
                }
                // Siblings of `$ref` (3.1 allows them): description, default, ...
                self.keywords(group, loc, old, new, dir);
            }
            (None, None) => self.schema_body(group, loc, old, new, dir),
            _ => {
                if let (Some(a), Some(b)) = (oref, nref) {
                    self.push(
                        group,
                        loc,
                        format!("now refers to {b} instead of {a}"),
                        Rule::TypeChanged,
                        true,
                    );
                }
                let pair = (oref.unwrap_or("").to_owned(), nref.unwrap_or("").to_owned());
                if !self.inline_pairs.insert(pair) {
                    return;
                }
                let o = resolve(self.old, old);
                let n = resolve(self.new, new);
                self.schema_body(group, loc, o, n, dir);
            }
        }
    }

    fn schema_body(&mut self, group: &Group, loc: &str, old: &Value, new: &Value, dir: Direction) {
        let (old_types, new_types) = (type_set(self.old, old), type_set(self.new, new));
        if old_types != new_types {
            let widened = subset(&old_types, &new_types);
            let narrowed = subset(&new_types, &old_types);
            // Only a widening depends on the direction; the others break either way and are
            // written without it so a schema used both ways reports them once.
            let (how, breaking) = match (widened, narrowed, dir) {
                (true, _, Direction::Request) => (format!("widened ({dir})"), false),
                (true, _, Direction::Response) => (format!("widened ({dir})"), true),
                (_, true, _) => ("narrowed".to_owned(), true),
                _ => ("changed".to_owned(), true),
            };
            self.push(
                group,
                loc,
                format!(
                    "type from {} to {}: {how}",
                    show_types(&old_types),
                    show_types(&new_types)
                ),
                Rule::TypeChanged,
                breaking,
            );
        }
        self.keywords(group, loc, old, new, dir);
    }

    fn keywords(&mut self, group: &Group, loc: &str, old: &Value, new: &Value, dir: Direction) {
        let (om, nm) = (old.as_object(), new.as_object());
        if om.is_some() || nm.is_some() {
            self.properties(group, loc, old, new, dir);
        }
        let mut constraints_done = false;
        for key in union_keys(om, nm) {
            let (o, n) = (old.get(&key), new.get(&key));
            match key.as_str() {
                "$ref" | "type" | "properties" | "required" => {}
                // Structural keys are walked even when equal, to queue the `$ref`s inside.
                "anyOf" | "oneOf" | "allOf" => {
                    self.branches(group, loc, o, n, dir, key == "allOf");
                }
                "items" => {
                    let here = format!("{loc}/[]");
                    let any = Value::Bool(true);
                    self.schema(group, &here, o.unwrap_or(&any), n.unwrap_or(&any), dir);
                }
                "additionalProperties"
                    if o.is_some_and(Value::is_object) && n.is_some_and(Value::is_object) =>
                {
                    let here = format!("{loc}/*");
                    self.schema(group, &here, &old[&key], &new[&key], dir);
                }
                _ if o == n => {}
                "format" => self.push(
                    group,
                    loc,
                    format!("format changed from {} to {}", show(o), show(n)),
                    Rule::FormatChanged,
                    true,
                ),
                "enum" => self.enums(group, loc, o, n, dir),
                "default" => self.push(
                    group,
                    loc,
                    format!("default changed from {} to {}", show(o), show(n)),
                    Rule::DefaultChanged,
                    true,
                ),
                k if DOC_KEYS.contains(&k) || k == "deprecated" => self.push(
                    group,
                    loc,
                    format!("{k} {}", verb(o, n)),
                    Rule::DocumentationChanged,
                    false,
                ),
                k if UPPER_BOUNDS.contains(&k)
                    || LOWER_BOUNDS.contains(&k)
                    || matches!(
                        k,
                        "pattern" | "multipleOf" | "uniqueItems" | "additionalProperties"
                    ) =>
                {
                    if !constraints_done {
                        constraints_done = true;
                        self.constraints(group, loc, old, new, dir);
                    }
                }
                _ => self.generic(group, loc, &key, o, n),
            }
        }
    }

    fn properties(&mut self, group: &Group, loc: &str, old: &Value, new: &Value, dir: Direction) {
        let required = |v: &Value| -> BTreeSet<String> {
            v["required"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (oreq, nreq) = (required(old), required(new));
        let (op, np) = (old["properties"].as_object(), new["properties"].as_object());
        for name in union_keys(op, np) {
            let here = format!("{loc}/{name}");
            match (op.and_then(|m| m.get(&name)), np.and_then(|m| m.get(&name))) {
                (None, None) => {}
                (Some(_), None) => self.push(
                    group,
                    &here,
                    "property removed".into(),
                    Rule::PropertyRemoved,
                    true,
                ),
                (None, Some(_)) => {
                    let req = nreq.contains(&name);
                    let kind = if req { "required" } else { "optional" };
                    self.push(
                        group,
                        &here,
                        format!("{kind} property added ({dir})"),
                        Rule::PropertyAdded,
                        req && dir == Direction::Request,
                    );
                }
                (Some(o), Some(n)) => {
                    let (ro, rn) = (oreq.contains(&name), nreq.contains(&name));
                    if ro != rn {
                        let breaking = match dir {
                            Direction::Request => rn,
                            Direction::Response => ro,
                        };
                        let kind = if rn { "required" } else { "optional" };
                        self.push(
                            group,
                            &here,
                            format!("became {kind} ({dir})"),
                            Rule::PropertyRequiredChanged,
                            breaking,
                        );
                    }
                    self.schema(group, &here, o, n, dir);
                }
            }
        }
    }

    /// Pairs the branches of `anyOf`/`oneOf` by what they are (a `$ref`'s target or a `type`),
    /// so `anyOf [integer, null]` → `anyOf [integer, null]` compares integer with integer. Added
    /// or removed branches show up in the type set compared by `schema_body`.
    fn branches(
        &mut self,
        group: &Group,
        loc: &str,
        old: Option<&Value>,
        new: Option<&Value>,
        dir: Direction,
        by_index: bool,
    ) {
        let key = |i: usize, v: &Value| -> String {
            if by_index {
                return i.to_string();
            }
            ref_of(v)
                .map(str::to_owned)
                .or_else(|| v.get("type").map(|t| t.to_string()))
                .unwrap_or_else(|| i.to_string())
        };
        let index = |v: Option<&Value>| -> BTreeMap<String, Value> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .enumerate()
                        .map(|(i, b)| (key(i, b), b.clone()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (o, n) = (index(old), index(new));
        for (k, ob) in &o {
            if let Some(nb) = n.get(k) {
                self.schema(group, loc, ob, nb, dir);
            }
        }
    }

    fn enums(
        &mut self,
        group: &Group,
        loc: &str,
        old: Option<&Value>,
        new: Option<&Value>,
        dir: Direction,
    ) {
        let values = |v: Option<&Value>| -> Option<BTreeSet<String>> {
            v.and_then(Value::as_array)
                .map(|a| a.iter().map(Value::to_string).collect())
        };
        match (values(old), values(new)) {
            (Some(o), Some(n)) => {
                for added in n.difference(&o) {
                    self.push(
                        group,
                        loc,
                        format!("enum value {added} added ({dir})"),
                        Rule::EnumValueAdded,
                        dir == Direction::Response,
                    );
                }
                for removed in o.difference(&n) {
                    self.push(
                        group,
                        loc,
                        format!("enum value {removed} removed ({dir})"),
                        Rule::EnumValueRemoved,
                        dir == Direction::Request,
                    );
                }
            }
            // A whole enum added restricts the values like a constraint; removed, it frees them.
            (None, Some(_)) => self.push(
                group,
                loc,
                format!("enum added ({dir})"),
                Rule::ConstraintTightened,
                dir == Direction::Request,
            ),
            (Some(_), None) => self.push(
                group,
                loc,
                format!("enum removed ({dir})"),
                Rule::ConstraintLoosened,
                dir == Direction::Response,
            ),
            (None, None) => {}
        }
    }

    fn constraints(&mut self, group: &Group, loc: &str, old: &Value, new: &Value, dir: Direction) {
        // Tightened: fewer values valid. Requests then fail that used to pass; responses that
        // were loosened may carry values clients never had to handle.
        let mut found: Vec<(String, Option<bool>)> = Vec::new();
        for (keys, tighter_when_smaller) in [(&UPPER_BOUNDS, true), (&LOWER_BOUNDS, false)] {
            for key in keys.iter() {
                let (o, n) = (old.get(*key), new.get(*key));
                if o == n {
                    continue;
                }
                let what = format!("{key} {}", from_to(o, n));
                let tightened = match (o.and_then(Value::as_f64), n.and_then(Value::as_f64)) {
                    (None, Some(_)) => true,
                    (Some(_), None) => false,
                    (Some(a), Some(b)) => (b < a) == tighter_when_smaller,
                    (None, None) => continue,
                };
                found.push((what, Some(tightened)));
            }
        }
        for key in ["pattern", "multipleOf"] {
            let (o, n) = (old.get(key), new.get(key));
            if o != n {
                let tightened = match (o, n) {
                    (None, Some(_)) => Some(true),
                    (Some(_), None) => Some(false),
                    _ => None,
                };
                found.push((format!("{key} {}", from_to(o, n)), tightened));
            }
        }
        let flag = |v: Option<&Value>, absent: bool| v.and_then(Value::as_bool).unwrap_or(absent);
        let (ou, nu) = (
            flag(old.get("uniqueItems"), false),
            flag(new.get("uniqueItems"), false),
        );
        if ou != nu {
            found.push((
                format!(
                    "uniqueItems {}",
                    from_to(old.get("uniqueItems"), new.get("uniqueItems"))
                ),
                Some(nu),
            ));
        }
        let (oa, na) = (
            old.get("additionalProperties"),
            new.get("additionalProperties"),
        );
        // Two schemas for extra keys were compared as schemas by `keywords`.
        if oa != na && !(oa.is_some_and(Value::is_object) && na.is_some_and(Value::is_object)) {
            // An absent or schema-valued keyword admits extra keys like `true` does.
            let admits = |v: Option<&Value>| v.and_then(Value::as_bool).unwrap_or(true);
            if admits(oa) != admits(na) {
                let what = format!("additionalProperties {}", from_to(oa, na));
                found.push((what, Some(!admits(na))));
            }
        }
        for (what, tightened) in found {
            // A changed pattern or multipleOf both admits and refuses values: breaking either way.
            let (rule, breaking) = match (tightened, dir) {
                (Some(true), d) => (Rule::ConstraintTightened, d == Direction::Request),
                (Some(false), d) => (Rule::ConstraintLoosened, d == Direction::Response),
                (None, Direction::Request) => (Rule::ConstraintTightened, true),
                (None, Direction::Response) => (Rule::ConstraintLoosened, true),
            };
            let how = match rule {
                Rule::ConstraintTightened => "tightened",
                _ => "loosened",
            };
            self.push(group, loc, format!("{what}: {how} ({dir})"), rule, breaking);
        }
    }

    /// Anything this module does not model: documentation keys are reported as such, any other
    /// difference is breaking so the gate fails safe and a person looks at it.
    fn generic(
        &mut self,
        group: &Group,
        loc: &str,
        key: &str,
        old: Option<&Value>,
        new: Option<&Value>,
    ) {
        if old == new {
            return;
        }
        if DOC_KEYS.contains(&key) {
            self.push(
                group,
                loc,
                format!("{key} {}", verb(old, new)),
                Rule::DocumentationChanged,
                false,
            );
            return;
        }
        if let (Some(Value::Object(o)), Some(Value::Object(n))) = (old, new) {
            for k in union_keys(Some(o), Some(n)) {
                let here = if loc.is_empty() {
                    key.to_owned()
                } else {
                    format!("{loc} {key}")
                };
                self.generic(group, &here, &k, o.get(&k), n.get(&k));
            }
            return;
        }
        self.push(
            group,
            loc,
            format!("`{key}` {}", verb(old, new)),
            Rule::UnclassifiedChange,
            true,
        );
    }
}

fn union_keys(a: Option<&Map<String, Value>>, b: Option<&Map<String, Value>>) -> BTreeSet<String> {
    a.into_iter()
        .chain(b)
        .flat_map(|m| m.keys().cloned())
        .collect()
}

fn ref_of(v: &Value) -> Option<&str> {
    v.get("$ref").and_then(Value::as_str)
}

/// Follows local `$ref`s; the documents were validated, and the depth bound stops a cycle of
/// refs that point only at each other.
fn resolve<'v>(root: &'v Value, mut v: &'v Value) -> &'v Value {
    for _ in 0..32 {
        match ref_of(v)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| root.pointer(p))
        {
            Some(target) => v = target,
            None => break,
        }
    }
    v
}

/// The JSON types a schema admits; `None` when it admits anything.
fn type_set(root: &Value, schema: &Value) -> Option<BTreeSet<String>> {
    let schema = resolve(root, schema);
    if let Some(t) = schema.get("type") {
        return Some(match t {
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            other => other.as_str().map(str::to_owned).into_iter().collect(),
        });
    }
    let branches = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))?
        .as_array()?;
    let mut all = BTreeSet::new();
    for branch in branches {
        all.extend(type_set(root, branch)?);
    }
    Some(all)
}

/// Whether every value of `a` is a value of `b`, with integers counted as numbers.
fn subset(a: &Option<BTreeSet<String>>, b: &Option<BTreeSet<String>>) -> bool {
    match (a, b) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(a), Some(b)) => a
            .iter()
            .all(|t| b.contains(t) || (t == "integer" && b.contains("number"))),
    }
}

fn show_types(types: &Option<BTreeSet<String>>) -> String {
    match types {
        None => "any".into(),
        Some(t) => t.iter().map(String::as_str).collect::<Vec<_>>().join("|"),
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(v) => v.to_string(),
    }
}

fn verb(old: Option<&Value>, new: Option<&Value>) -> &'static str {
    match (old, new) {
        (None, _) => "added",
        (_, None) => "removed",
        _ => "changed",
    }
}

fn from_to(old: Option<&Value>, new: Option<&Value>) -> String {
    match (old, new) {
        (None, Some(n)) => format!("{n} added"),
        (Some(o), None) => format!("{o} removed"),
        _ => format!("changed from {} to {}", show(old), show(new)),
    }
}

/// An operation's parameters keyed by (in, name), path-level ones overridden by its own.
fn effective_parameters(
    root: &Value,
    item: &Value,
    op: &Value,
) -> BTreeMap<(String, String), Value> {
    let mut params = BTreeMap::new();
    for list in [&item["parameters"], &op["parameters"]] {
        for p in list.as_array().into_iter().flatten() {
            let p = resolve(root, p);
            let key = (
                p["in"].as_str().unwrap_or("?").to_owned(),
                p["name"].as_str().unwrap_or("?").to_owned(),
            );
            params.insert(key, p.clone());
        }
    }
    params
}

/// For each component schema, the operations whose requests or responses reach it.
fn schema_users(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        for method in HTTP_METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"].as_str().unwrap_or("?").to_owned();
            let mut seen = BTreeSet::new();
            let mut stack = vec![op, &item["parameters"]];
            while let Some(v) = stack.pop() {
                match v {
                    Value::Object(m) => {
                        if let Some(r) = m.get("$ref").and_then(Value::as_str)
                            && let Some(target) = r.strip_prefix('#').and_then(|p| doc.pointer(p))
                            && seen.insert(r.to_owned())
                        {
                            if let Some(name) = r.strip_prefix(SCHEMA_PREFIX) {
                                users.entry(unescape(name)).or_default().insert(id.clone());
                            }
                            stack.push(target);
                        }
                        stack.extend(m.values());
                    }
                    Value::Array(a) => stack.extend(a),
                    _ => {}
                }
            }
        }
    }
    users
}

/// The spec as committed at git HEAD, validated.
pub fn head_spec() -> Result<Value> {
    let out = crate::child_env::command("git")
        .arg("-C")
        .arg(codegen::workspace_root())
        .args(["show", "HEAD:spec/openapi.json"])
        .stderr(Stdio::null())
        .output()
        .context("cannot run git to read spec/openapi.json at HEAD")?;
    if !out.status.success() {
        return Err(anyhow!("git has no spec/openapi.json at HEAD"));
    }
    let doc: Value = serde_json::from_slice(&out.stdout)
        .context("spec/openapi.json at HEAD is not valid JSON")?;
    spec::validate(&doc).context("spec/openapi.json at HEAD")?;
    Ok(doc)
}

/// A document named on the command line: a file, or else, when it has a `:`, a git object
/// `REV:PATH` as `git show` reads it (`HEAD~20:spec/openapi.json`, the path from the workspace
/// root). A file literally named with a `:` is read as the file. A revision git cannot show is
/// a [`RunError::Arguments`] (exit 2), its line git's first.
pub fn load_document(arg: &str) -> Result<Value> {
    let path = Path::new(arg);
    let Some((revision, _)) = arg.split_once(':').filter(|_| !path.is_file()) else {
        return Ok(spec::load_spec(path)?);
    };
    let shown = escape(arg);
    // git would read a leading `-` as an option (`--output=...`), not as a revision.
    if revision.is_empty() || revision.starts_with('-') {
        return Err(RunError::Arguments(format!(
            "{shown} is neither a file nor REV:PATH (a revision cannot be empty or start with '-')"
        ))
        .into());
    }
    let out = crate::child_env::command("git")
        .arg("-C")
        .arg(codegen::workspace_root())
        .args(["show", arg])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run git to read {shown}"))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let first = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(RunError::Arguments(format!(
            "{shown} is not a file, and git cannot show it: {}",
            escape(first.trim())
        ))
        .into());
    }
    let doc: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{shown} is not valid JSON"))?;
    spec::validate(&doc).with_context(|| shown.into_owned())?;
    Ok(doc)
}

/// The file a document argument names, for annotations: `PATH` of `REV:PATH`, else itself.
pub fn document_file(arg: &str) -> &str {
    match arg.split_once(':') {
        Some((_, file)) if !Path::new(arg).is_file() => file,
        _ => arg,
    }
}

/// The change summary from HEAD's spec to `working`, or `None` when git, HEAD or either
/// document is unavailable: `generate` mentions it only as a courtesy.
pub fn summary_since_head(working: &Path) -> Option<Report> {
    let old = head_spec().ok()?;
    let new = spec::load_spec(working).ok()?;
    Some(diff(&old, &new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
        spec::load_spec(&path).unwrap()
    }

    #[test]
    fn identical_documents_have_no_changes() {
        let doc = stored();
        let report = diff(&doc, &doc);
        assert!(report.is_empty(), "{report}");
        assert_eq!(report.to_string(), "no changes\n");
    }

    #[test]
    fn a_removed_response_field_is_breaking_and_named() {
        let old = stored();
        let mut new = old.clone();
        new["components"]["schemas"]["SimulationConfig-Output"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("max_events");
        let report = diff(&old, &new);
        assert_eq!(report.breaking(), 1, "{report}");
        let change = &report.changes[0];
        assert_eq!(change.rule, Rule::PropertyRemoved);
        assert_eq!(change.location, "/max_events");
        assert_eq!(
            change.group,
            Group::Schema("SimulationConfig-Output".into())
        );
        let text = report.to_string();
        assert!(
            text.contains("used by create_simulation, get_simulation"),
            "{text}"
        );
    }

    #[test]
    fn a_shared_enum_gains_a_value_breaking_only_for_responses() {
        let old = stored();
        let mut new = old.clone();
        new["components"]["schemas"]["SimulationStatus"]["enum"]
            .as_array_mut()
            .unwrap()
            .push(json!("paused"));
        let report = diff(&old, &new);
        let lines: Vec<String> = report.changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            lines,
            [
                "ok        enum value \"paused\" added (request)  [enum-value-added]",
                "BREAKING  enum value \"paused\" added (response)  [enum-value-added]",
            ]
        );
    }

    #[test]
    fn a_description_changed_twice_over_is_reported_once() {
        let old = stored();
        let mut new = old.clone();
        new["components"]["schemas"]["SimulationStatus"]["description"] = json!("Now");
        let report = diff(&old, &new);
        assert_eq!(report.changes.len(), 1, "{report}");
        assert_eq!(report.changes[0].rule, Rule::DocumentationChanged);
        assert_eq!(report.breaking(), 0);
    }

    #[test]
    fn every_rule_has_a_section_in_the_spec_readme() {
        let readme = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/README.md"),
        )
        .unwrap();
        let (_, rules) = readme
            .split_once("## Breaking-change rules")
            .expect("spec/README.md has a Breaking-change rules part");
        let documented: Vec<&str> = rules
            .lines()
            .filter_map(|l| l.strip_prefix("### "))
            .map(|l| l.trim_matches('`'))
            .collect();
        let ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(documented, ids);
    }
}
