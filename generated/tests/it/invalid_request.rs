//! A setter's value that cannot be sent is `Error::InvalidRequest` from `send`, before any request;
//! its text says why in the API's terms, not which Rust conversion failed.

use interactly_simulations_client::{Error, client_with_api_key};

#[tokio::test]
async fn a_zero_size_says_what_size_must_be() {
    // Port 9 on loopback: nothing is sent, the builder refuses first.
    let client = client_with_api_key("http://127.0.0.1:9", "a-key").unwrap();
    for (what, result) in [
        ("size", client.list_simulations().size(0u64).send().await),
        ("page", client.list_simulations().page(0u64).send().await),
    ] {
        match result {
            Err(Error::InvalidRequest(message)) => {
                assert_eq!(message, format!("{what} must be at least 1"));
            }
            other => panic!("{what} 0 gave {other:?}"),
        }
    }
}
