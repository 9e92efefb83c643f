//! Renders the typed client's Rust source from an OpenAPI 3.0 document with progenitor.
#![cfg(feature = "generator")]

use anyhow::{Context, Result, anyhow};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle};

/// The client's items for an OpenAPI 3.0 document (the form xtask downgrades the spec to),
/// formatted by prettyplease. The same document always gives the same bytes: progenitor and
/// typify iterate sorted maps, and prettyplease has no configuration to drift.
pub fn render(openapi_30: serde_json::Value) -> Result<String> {
    let openapi: openapiv3::OpenAPI = serde_json::from_value(openapi_30)
        .context("the 3.0 form of the spec is not a valid OpenAPI 3.0 document")?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("schemars::JsonSchema");
    let mut generator = Generator::new(&settings);
    // progenitor asserts on shapes it does not support; turn a panic into a one-line error.
    let tokens = quietly(std::panic::AssertUnwindSafe(|| {
        generator.generate_tokens(&openapi)
    }))
    .map_err(|panic| anyhow!("progenitor cannot generate a client for this spec: {panic}"))?
    .map_err(|e| anyhow!("progenitor cannot generate a client for this spec: {e}"))?;
    let file = syn::parse_file(&tokens.to_string())
        .context("progenitor produced code that does not parse")?;
    Ok(reasoned_conversion_errors(&prettyplease::unparse(&file)))
}

/// progenitor's builders refuse a value that does not convert with "conversion to
/// `:: std :: num :: NonZeroU64` for size failed", which names a Rust type instead of the reason.
/// A `NonZeroU64` parameter is an integer with `minimum: 1`, so its message says that instead.
fn reasoned_conversion_errors(source: &str) -> String {
    const PREFIX: &str = "\"conversion to `:: std :: num :: NonZeroU64` for ";
    const SUFFIX: &str = " failed\"";
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find(PREFIX) {
        let after = &rest[start + PREFIX.len()..];
        let Some(end) = after.find(SUFFIX) else { break };
        let name = &after[..end];
        out.push_str(&rest[..start]);
        out.push_str(&format!("\"{name} must be at least 1\""));
        rest = &after[end + SUFFIX.len()..];
    }
    out.push_str(rest);
    out
}

fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Result<T, String> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(f);
    std::panic::set_hook(previous);
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "it panicked".to_owned())
            .replace('\n', " ")
    })
}
