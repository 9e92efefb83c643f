//! The client's TLS: `client_with_api_key` builds its own rustls configuration with an explicit
//! crypto provider and leaves the process-wide default alone, so a program that picks its own
//! provider (or installs one later) is not overruled by a library.

use interactly_simulations_client::client_with_api_key;

#[test]
fn building_a_client_installs_no_process_wide_provider() {
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    client_with_api_key("https://api-qa.example.invalid", "a-key").unwrap();
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_none(),
        "client_with_api_key installed a process-wide rustls provider"
    );
}
