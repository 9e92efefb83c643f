//! A response as the suite saw it: status, the headers checks read, the body (already redacted) and the body read as JSON.

use serde_json::Value;

/// A response as the suite saw it, already redacted.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub www_authenticate: Option<String>,
    pub allow: Option<String>,
    pub body: Vec<u8>,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<Value>,
    /// Set on the answer to a write that was retried after a failure that may have reached the
    /// service (see `gateway.rs`): the time from the first attempt to this answer, the window in
    /// which a lost attempt may have made its record.
    pub ambiguous_for: Option<std::time::Duration>,
    /// How many earlier attempts of this write failed after they may have reached the service:
    /// each may have acted (for a create, made a record the suite never heard of).
    pub lost_attempts: u32,
}

impl Response {
    pub fn new(status: u16, content_type: Option<String>, body: Vec<u8>) -> Response {
        let json = crate::hazard::parse(&body);
        Response {
            status,
            content_type,
            www_authenticate: None,
            allow: None,
            body,
            json,
            ambiguous_for: None,
            lost_attempts: 0,
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The stored simulation of a single-simulation response.
    pub fn simulation(&self) -> Option<&Value> {
        self.json.as_ref()?.get("simulation")
    }
}
