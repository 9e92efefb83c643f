//! `cargo xtask serve`: the reference server in the foreground, for curl sessions and the suite.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use reference_server::{ApiKey, Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};

/// What `serve` was asked to do.
#[derive(Debug, PartialEq)]
enum Request {
    Serve { addr: SocketAddr, config: Config },
    ListFaults,
}

/// A whole number of at least 1, for options where 0 would refuse every connection.
fn positive(unit: &'static str) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync {
    move |text: &str| match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("not a whole number of {unit} of at least 1")),
    }
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct ServeArgs {
    /// The address to listen on
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080",
          value_parser = |s: &str| s.parse::<SocketAddr>().map_err(|_| "not IP:PORT".to_owned()))]
    addr: SocketAddr,
    /// A key the server accepts, the team and user it belongs to; repeatable (replaces the
    /// development keys)
    #[arg(long = "api-key", value_name = "KEY:TEAM:USER")]
    api_keys: Vec<String>,
    /// Switch on one deliberate contract violation (see --list-faults)
    #[arg(long, value_name = "NAME", value_parser = crate::cli::fault_parser())]
    fault: Option<Fault>,
    /// Added to every response
    #[arg(long, value_name = "MS", default_value_t = 0,
          value_parser = |s: &str| s.parse::<u64>().map_err(|_| "not a number of milliseconds".to_owned()))]
    latency: u64,
    /// Connections served at once
    #[arg(long, value_name = "N", default_value = "1024", value_parser = positive("connections"))]
    max_connections: u64,
    /// Time a client has to send its headers (and to idle between requests)
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = positive("seconds"))]
    header_read_timeout: u64,
    /// Time a body may stall, or a response stay unread
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = positive("seconds"))]
    io_timeout: u64,
    /// List the fault catalog and exit
    #[arg(long)]
    list_faults: bool,
}

fn request(args: ServeArgs) -> Result<Request> {
    if args.list_faults {
        return Ok(Request::ListFaults);
    }
    let mut config = Config::development();
    // The key's text never goes into an error message.
    let keys = args
        .api_keys
        .iter()
        .map(|text| text.parse::<ApiKey>())
        .collect::<Result<Vec<_>, _>>()?;
    if !keys.is_empty() {
        config.keys = keys;
    }
    config.fault = args.fault;
    config.latency = Duration::from_millis(args.latency);
    config.max_connections = usize::try_from(args.max_connections).unwrap_or(usize::MAX);
    config.header_read_timeout = Duration::from_secs(args.header_read_timeout);
    config.io_timeout = Duration::from_secs(args.io_timeout);
    Ok(Request::Serve {
        addr: args.addr,
        config,
    })
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

pub fn run(args: ServeArgs) -> Result<()> {
    let (addr, config) = match request(args)? {
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

    #[derive(clap::Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// As `cargo xtask serve ARGS` parses and reads them; an error as the one line it prints.
    fn parse(list: &[String]) -> Result<Request> {
        let parsed = <Serve as clap::Parser>::try_parse_from(
            std::iter::once("serve").chain(list.iter().map(String::as_str)),
        )
        .map_err(|e| anyhow::anyhow!(crate::cli::one_line(&e, "serve")))?;
        request(parsed.args)
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
