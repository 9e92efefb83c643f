//! `cargo xtask serve`: the reference server in the foreground, for curl sessions and the suite.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use reference_server::{ApiKey, Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};

/// What `serve` was asked to do.
#[derive(Debug, PartialEq)]
enum Request {
    Serve { addr: SocketAddr, config: Config },
    ListFaults,
}

/// A whole number of at least 1, for options where 0 would refuse every connection.
fn positive(name: &str, text: &str, unit: &str) -> Result<u64> {
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => bail!("{name} `{text}` is not a whole number of {unit} of at least 1"),
    }
}

fn parse(args: &[String]) -> Result<Request> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 8080).into();
    let mut keys = Vec::new();
    let mut config = Config::development();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .map(String::as_str)
                .with_context(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--addr" => {
                let text = value("--addr")?;
                addr = text
                    .parse()
                    .with_context(|| format!("--addr `{text}` is not IP:PORT"))?;
            }
            // The key's text never goes into an error message.
            "--api-key" => keys.push(value("--api-key")?.parse::<ApiKey>()?),
            "--fault" => config.fault = Some(value("--fault")?.parse::<Fault>()?),
            "--latency" => {
                let text = value("--latency")?;
                let ms: u64 = text.parse().with_context(|| {
                    format!("--latency `{text}` is not a number of milliseconds")
                })?;
                config.latency = Duration::from_millis(ms);
            }
            "--max-connections" => {
                let n = positive(
                    "--max-connections",
                    value("--max-connections")?,
                    "connections",
                )?;
                config.max_connections = usize::try_from(n).unwrap_or(usize::MAX);
            }
            "--header-read-timeout" => {
                let secs = positive(
                    "--header-read-timeout",
                    value("--header-read-timeout")?,
                    "seconds",
                )?;
                config.header_read_timeout = Duration::from_secs(secs);
            }
            "--io-timeout" => {
                let secs = positive("--io-timeout", value("--io-timeout")?, "seconds")?;
                config.io_timeout = Duration::from_secs(secs);
            }
            "--list-faults" => return Ok(Request::ListFaults),
            other => bail!("unknown argument `{other}` for serve"),
        }
    }
    if !keys.is_empty() {
        config.keys = keys;
    }
    Ok(Request::Serve { addr, config })
}

/// The soft limit of `Max open files` in Linux's `/proc/self/limits`; `None` when unlimited or
/// unknown.
fn open_file_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Descriptors the process holds besides its connections (listener, epoll, stdio, ...), with room.
const OWN_DESCRIPTORS: u64 = 32;

pub fn run(args: &[String]) -> Result<()> {
    let (addr, config) = match parse(args)? {
        Request::ListFaults => {
            let width = Fault::ALL.iter().map(|f| f.name().len()).max().unwrap_or(0);
            for fault in Fault::ALL {
                println!(
                    "{:width$}  {} [{}]",
                    fault.name(),
                    fault.description(),
                    fault.rules().join(", ")
                );
            }
            return Ok(());
        }
        Request::Serve { addr, config } => (addr, config),
    };
    let development = config.keys == Config::development().keys;
    tracing_subscriber::fmt().with_target(false).init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr().context("no local address")?;
        println!("reference server listening on http://{local}");
        if development {
            // Development keys are public by design: printing them is how a developer gets one.
            println!(
                "development keys: {DEV_KEY} (team-a/user-a), {DEV_OTHER_TEAM_KEY} (team-b/user-b)"
            );
        } else {
            let teams: Vec<String> = config
                .keys
                .iter()
                .map(|k| format!("{}/{}", k.team, k.user))
                .collect();
            println!("{} API key(s) for {}", config.keys.len(), teams.join(", "));
        }
        if let Some(fault) = config.fault {
            println!("FAULT ON: {} ({})", fault.name(), fault.description());
        }
        println!(
            "limits: {} connections; header-read (and idle) timeout {} s; body and stalled-write timeout {} s",
            config.max_connections,
            config.header_read_timeout.as_secs(),
            config.io_timeout.as_secs()
        );
        let wanted = u64::try_from(config.max_connections)
            .unwrap_or(u64::MAX)
            .saturating_add(OWN_DESCRIPTORS);
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        if let Some(files) = open_file_limit(&limits)
            && files < wanted
        {
            // Past the open-file limit accepting fails until a connection closes, so the cap
            // would not be what bounds the server.
            println!(
                "warning: the open-file limit (ulimit -n) is {files}, too low for {} connections; raise it or pass --max-connections {}",
                config.max_connections,
                files.saturating_sub(OWN_DESCRIPTORS).max(1)
            );
        }
        reference_server::serve(listener, config)
            .await
            .context("the server stopped")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn defaults_to_development_keys_on_8080() {
        let Request::Serve { addr, config } = parse(&[]).expect("parses") else {
            panic!("expected serve");
        };
        assert_eq!(addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config, Config::development());
    }

    #[test]
    fn reads_every_option() {
        let parsed = parse(&args(&[
            "--addr",
            "127.0.0.1:0",
            "--api-key",
            "k1:t1:u1",
            "--api-key",
            "k2:t2:u2",
            "--fault",
            "oldest-first",
            "--latency",
            "5",
            "--max-connections",
            "64",
            "--header-read-timeout",
            "2",
            "--io-timeout",
            "3",
        ]))
        .expect("parses");
        let Request::Serve { addr, config } = parsed else {
            panic!("expected serve");
        };
        assert_eq!(addr.port(), 0);
        assert_eq!(config.keys.len(), 2);
        assert_eq!(config.keys[1].team, "t2");
        assert_eq!(config.fault, Some(Fault::OldestFirst));
        assert_eq!(config.latency, Duration::from_millis(5));
        assert_eq!(config.max_connections, 64);
        assert_eq!(config.header_read_timeout, Duration::from_secs(2));
        assert_eq!(config.io_timeout, Duration::from_secs(3));
        assert_eq!(
            parse(&args(&["--list-faults"])).expect("parses"),
            Request::ListFaults
        );
    }

    #[test]
    fn reads_the_open_file_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63432                63432                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(open_file_limit(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(open_file_limit(unlimited), None);
        assert_eq!(open_file_limit(""), None);
    }

    #[test]
    fn bad_arguments_are_one_line_errors_without_the_key() {
        for bad in [
            &["--fault", "nope"][..],
            &["--addr", "localhost"],
            &["--latency", "-1"],
            &["--max-connections", "0"],
            &["--max-connections", "many"],
            &["--header-read-timeout", "0"],
            &["--io-timeout", "1.5"],
            &["--io-timeout"],
            &["--api-key", "secret-only"],
            &["--api-key"],
            &["--what"],
        ] {
            let error = format!("{:#}", parse(&args(bad)).expect_err("rejected"));
            assert!(!error.contains('\n'), "{error}");
            assert!(!error.contains("secret-only"), "{error}");
        }
    }
}
