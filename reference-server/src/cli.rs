//! The mock's command line (feature `cli`), one parser for both ways to run it: the
//! `reference-server` binary (`cargo install --path reference-server`, the Dockerfile) and
//! `cargo xtask serve`. [`ServeArgs`] are the options, [`run`] reads them (keys from flags, a
//! file and [`KEYS_VARIABLE`]), prints the banner and serves in the foreground.

use std::ffi::OsString;
use std::fmt::Display;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

#[cfg(feature = "faults")]
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::{ApiKey, Config, DEV_KEY, DEV_OTHER_TEAM_KEY};
#[cfg(feature = "faults")]
use crate::{Fault, FaultSet};

/// The environment variable the server reads keys from, in the format of `--api-key-file`.
pub const KEYS_VARIABLE: &str = "SERVE_API_KEYS";

/// A keys file larger than this is refused before it is read whole.
const MAX_KEYS_FILE: u64 = 1024 * 1024;

/// How keys reach the server besides the development ones; after the options in `--help`.
const AFTER_HELP: &str = "\
Keys:
  With no key given, the server accepts the two development keys and prints them. Keys given
  by --api-key, --api-key-file and SERVE_API_KEYS all count, and replace the development keys;
  they are never printed (only their teams and users are). Prefer the file or the variable:
  a command line is visible to every user of the machine (ps, /proc).

  Format of --api-key-file and SERVE_API_KEYS: entries KEY:TEAM:USER separated by white space
  (one a line, say); `#` starts a comment to the end of its line. A key may contain colons
  (the last two separate team and user) but not white space or `#`; --api-key takes such a key.

Environment:
  SERVE_API_KEYS  keys the server accepts, as in --api-key-file

Storage:
  Each team may store at most --max-team-records simulations and --max-team-mib MiB of them
  (roughly their JSON); past that a create, or an update that grows a record, is answered
  409 {\"detail\": \"This team's simulation storage is full ...; delete simulations to make
  room\"}. Deleting always works and makes room.

Connections:
  A client address holding --max-connections-per-peer connections has its next one closed at
  accept, unanswered; other clients keep the rest of --max-connections. All local clients
  share the address 127.0.0.1, so a key is bounded too: a request of a key that already
  carries --max-connections-per-key connections is answered 429 (Retry-After: 1) and its
  connection closed.

Beside the API (no key needed):
  GET /api-docs/workflows/api.json  the OpenAPI document (spec/openapi.json), where the real
                                    service serves it
  GET /healthz                      200 {\"status\": \"ok\"} while the server runs";

/// A value of `--api-key`: `Debug` never shows it, and it is parsed after clap so that no
/// clap error quotes it.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The options of the mock: `cargo xtask serve` and the `reference-server` binary both take
/// exactly these.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true, after_help = AFTER_HELP)]
pub struct ServeArgs {
    /// The address to listen on
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080",
          value_parser = |s: &str| s.parse::<SocketAddr>().map_err(|_| "not IP:PORT".to_owned()))]
    addr: SocketAddr,
    /// A key the server accepts, the team and user it belongs to; repeatable (replaces the
    /// development keys). Visible to other users in `ps`: prefer --api-key-file or
    /// SERVE_API_KEYS
    #[arg(long = "api-key", value_name = "KEY:TEAM:USER",
          value_parser = |s: &str| Ok::<_, String>(Secret(s.to_owned())))]
    api_keys: Vec<Secret>,
    /// A file of keys the server accepts (format below); replaces the development keys
    #[arg(long, value_name = "PATH")]
    api_key_file: Option<PathBuf>,
    /// Switch on deliberate contract violations (see --list-faults); repeatable, or several
    /// separated by commas
    #[cfg(feature = "faults")]
    #[arg(long = "fault", value_name = "NAME", value_delimiter = ',', value_parser = fault_parser())]
    faults: Vec<Fault>,
    /// Let browser pages from ORIGIN (SCHEME://HOST[:PORT]) call the server (CORS);
    /// repeatable, `*` for any origin. Off by default, where a preflight (OPTIONS) is the
    /// contract's 405
    #[arg(long = "cors", value_name = "ORIGIN", value_parser = origin)]
    cors: Vec<String>,
    /// Added to every response, 0 to 60000
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = number_in(0..=60_000u64))]
    latency: u64,
    /// Connections served at once, 1 to 1000000
    #[arg(long, value_name = "N", default_value = "1024", value_parser = number_in(1..=1_000_000u64))]
    max_connections: u64,
    /// Connections one client address may hold at once, 1 to 1000000
    #[arg(long, value_name = "N", default_value = "512", value_parser = number_in(1..=1_000_000u64))]
    max_connections_per_peer: u64,
    /// Connections that may carry one API key's requests at once, 1 to 1000000
    #[arg(long, value_name = "N", default_value = "256", value_parser = number_in(1..=1_000_000u64))]
    max_connections_per_key: u64,
    /// Time a client has to send its headers (and to idle between requests), 1 to 3600
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = number_in(1..=3600u64))]
    header_read_timeout: u64,
    /// Time a body may stall, or a response stay unread, 1 to 3600
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = number_in(1..=3600u64))]
    io_timeout: u64,
    /// Simulations one team may store, 1 to 100000000
    #[arg(long, value_name = "N", default_value = "100000", value_parser = number_in(1..=100_000_000u64))]
    max_team_records: u64,
    /// MiB of simulations (roughly their JSON) one team may store, 1 to 1048576
    #[arg(long, value_name = "MIB", default_value = "256", value_parser = number_in(1..=1_048_576u64))]
    max_team_mib: u64,
    /// List the fault catalog and exit
    #[cfg(feature = "faults")]
    #[arg(long)]
    list_faults: bool,
}

/// Why the mock did not serve.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A bad option, key or keys file: exit 2.
    #[error("{0}")]
    Arguments(String),
    /// The address cannot be listened on (in use, not this machine's, a privileged port):
    /// exit 2, since the address is configuration too.
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: io::Error },
    /// The runtime could not start, or the server or the catalog's output failed: exit 1.
    #[error("{what}: {source}")]
    Failed {
        what: &'static str,
        source: io::Error,
    },
}

impl CliError {
    /// 2 for misconfiguration (the options, keys, the address), 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Arguments(_) | CliError::Listen { .. } => 2,
            CliError::Failed { .. } => 1,
        }
    }
}

fn bad(message: impl Into<String>) -> CliError {
    CliError::Arguments(message.into())
}

/// A number within `range`, or a message saying that the text is no number, or which numbers
/// are allowed: `abc` is "not a number", `0` for `1..=10` is "out of range".
pub fn number_in<T>(
    range: RangeInclusive<T>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: FromStr + PartialOrd + Display + Send + Sync + 'static,
{
    // Whole numbers are the types that do not read `0.5`.
    let whole = "0.5".parse::<T>().is_err();
    let range = std::sync::Arc::new(range);
    move |text: &str| {
        let expected = format!(
            "expected a {}number from {} to {}",
            if whole { "whole " } else { "" },
            range.start(),
            range.end()
        );
        let text = text.trim();
        let Ok(number) = text.parse::<T>() else {
            // What `T` does not read may still be a number: digits out of its range (`-1`, or
            // past u64), a fraction where a whole number is wanted, or a whole number written
            // otherwise than in digits (`1e3`).
            let digits = text
                .strip_prefix(['-', '+'])
                .unwrap_or(text)
                .bytes()
                .all(|b| b.is_ascii_digit());
            return Err(match text.parse::<f64>() {
                Ok(n) if n.is_nan() => format!("not a number: {expected}"),
                Ok(n) if n.is_infinite() || digits => format!("out of range: {expected}"),
                Ok(n) if n.fract() != 0.0 => format!("not a whole number: {expected}"),
                Ok(_) => format!("not a whole number in digits: {expected}"),
                Err(_) => format!("not a number: {expected}"),
            });
        };
        if range.contains(&number) {
            Ok(number)
        } else if text.parse::<f64>().is_ok_and(f64::is_nan) {
            // NaN compares false both ways, so it is never in range; it is no number either.
            Err(format!("not a number: {expected}"))
        } else {
            Err(format!("out of range: {expected}"))
        }
    }
}

#[cfg(feature = "faults")]
/// `--fault NAME`: one of the catalog's names (`Fault::ALL`), listed in help.
pub fn fault_parser() -> impl TypedValueParser<Value = Fault> {
    PossibleValuesParser::new(Fault::ALL.iter().map(|f| PossibleValue::new(f.name())))
        .try_map(|name| name.parse::<Fault>())
}

/// `--cors ORIGIN`: `*`, or an origin as a browser sends it in `Origin` (`http` or `https`,
/// a host, an optional port, nothing after), lower-cased as browsers send it.
fn origin(text: &str) -> Result<String, String> {
    if text == "*" {
        return Ok(text.to_owned());
    }
    let host = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    let valid = host.is_some_and(|host| {
        // A DNS name (at most 253), an IPv6 literal in brackets, and a port.
        (1..=270).contains(&host.len())
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    });
    if valid {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(
            "not an origin: expected `*` or SCHEME://HOST[:PORT] (http or https, no path)"
                .to_owned(),
        )
    }
}

/// Closed lists longer than this are named by their first entries only.
const VALUES_SHOWN: usize = 8;

/// `; did you mean `x`?` when clap found a near name (strsim) for the subcommand, flag or
/// value given; empty when not.
pub fn suggestion(err: &clap::Error) -> String {
    let near = [
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
    ]
    .into_iter()
    .find_map(|kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(vec![s.clone()]),
        Some(ContextValue::Strings(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    });
    match near {
        Some(names) => {
            let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!("; did you mean {}?", names.join(" or "))
        }
        None => String::new(),
    }
}

/// `; possible values: a, b, c` for a value outside a closed list; a long list (the fault
/// catalog) is named by its first entries and by `list_faults`, the command that lists it.
pub fn possible_values(err: &clap::Error, list_faults: &str) -> String {
    let Some(ContextValue::Strings(values)) = err.get(ContextKind::ValidValue) else {
        return String::new();
    };
    if values.len() <= VALUES_SHOWN {
        return format!("; possible values: {}", values.join(", "));
    }
    let faults = matches!(
        err.get(ContextKind::InvalidArg),
        Some(ContextValue::String(arg)) if arg.starts_with("--fault")
    );
    let whole: &str = if faults {
        &format!("`{list_faults}` lists and describes them")
    } else {
        "`--help` lists them"
    };
    format!(
        "; possible values: {}, … ({} in all; {whole})",
        values[..3].join(", "),
        values.len()
    )
}

/// A clap error as one plain line (`error: ...`), without usage or tips; a near name and the
/// values a closed list allows on the same line; `program` is what `--help` is run with.
pub fn one_line(err: &clap::Error, program: &str) -> String {
    if err.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg)
    {
        // Only the flag: a value after `=` may be a key.
        let flag = arg.split('=').next().unwrap_or_default();
        return match suggestion(err).strip_prefix("; ") {
            Some(near) => format!("error: unknown argument `{flag}`: {near} (`{program} --help`)"),
            None => format!("error: unknown argument `{flag}`; run `{program} --help`"),
        };
    }
    plain_line(err, &format!("{program} --list-faults"))
}

/// A clap error's own text as one line starting `error:`, without usage or tips, with a near
/// name and the allowed values (`possible_values`, `list_faults` the command listing faults).
pub fn plain_line(err: &clap::Error, list_faults: &str) -> String {
    let text = err.render().to_string();
    let kept: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("Usage:")
                && !line.starts_with("For more information")
                && !line.starts_with("tip:")
                && !line.starts_with("[possible values")
        })
        .collect();
    let line = format!(
        "{}{}{}",
        kept.join(" "),
        suggestion(err),
        possible_values(err, list_faults)
    );
    if line.starts_with("error:") {
        line
    } else {
        format!("error: {line}")
    }
}

/// What the command was asked to do.
#[derive(Debug, PartialEq)]
enum Request {
    Serve {
        addr: SocketAddr,
        config: Config,
    },
    #[cfg(feature = "faults")]
    ListFaults,
}

/// `args` read, with `env_keys` the value of [`KEYS_VARIABLE`] if set.
fn request(args: ServeArgs, env_keys: Option<OsString>) -> Result<Request, CliError> {
    #[cfg(feature = "faults")]
    if args.list_faults {
        return Ok(Request::ListFaults);
    }
    let mut config = Config::development();
    // The key's text never goes into an error message.
    let mut keys = args
        .api_keys
        .iter()
        .map(|text| text.0.parse::<ApiKey>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("--api-key: {e}")))?;
    if let Some(path) = &args.api_key_file {
        let text = read_keys_file(path)?;
        let parsed = parse_keys(&text).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        keys.extend(parsed);
    }
    if let Some(value) = env_keys {
        let Some(text) = value.to_str() else {
            return Err(bad(format!("{KEYS_VARIABLE} is not UTF-8")));
        };
        keys.extend(parse_keys(text).map_err(|e| bad(format!("{KEYS_VARIABLE}: {e}")))?);
    }
    let mut seen = std::collections::HashSet::new();
    for key in &keys {
        // Teams and users are printed (banner, this error); keys never are.
        let printable = |name: &str| !name.chars().any(char::is_control);
        if !printable(&key.team) || !printable(&key.user) {
            return Err(bad("a key's team or user holds a control character"));
        }
        if !seen.insert(key.key.as_str()) {
            return Err(bad(format!(
                "the key of {}/{} is given twice; each key belongs to one team and user",
                key.team, key.user
            )));
        }
    }
    if !keys.is_empty() {
        config.keys = keys;
    }
    let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    // A fault named twice is switched on once.
    #[cfg(feature = "faults")]
    {
        config.faults = args.faults.iter().copied().collect::<FaultSet>();
    }
    config.cors_origins = args.cors;
    config.latency = Duration::from_millis(args.latency);
    config.max_connections = count(args.max_connections);
    config.max_connections_per_peer = count(args.max_connections_per_peer);
    config.max_connections_per_key = count(args.max_connections_per_key);
    config.header_read_timeout = Duration::from_secs(args.header_read_timeout);
    config.io_timeout = Duration::from_secs(args.io_timeout);
    config.max_team_records = count(args.max_team_records);
    config.max_team_bytes = count(args.max_team_mib.saturating_mul(1024 * 1024));
    Ok(Request::Serve {
        addr: args.addr,
        config,
    })
}

/// The text of a keys file, refused past [`MAX_KEYS_FILE`] or when not UTF-8. Errors name
/// the path, never the content.
fn read_keys_file(path: &Path) -> Result<String, CliError> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot open {shown}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEYS_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("cannot read {shown}: {e}")))?;
    if bytes.len() as u64 > MAX_KEYS_FILE {
        return Err(bad(format!(
            "{shown} is larger than {MAX_KEYS_FILE} bytes; it is not a keys file"
        )));
    }
    String::from_utf8(bytes).map_err(|_| bad(format!("{shown} is not UTF-8")))
}

/// Entries `KEY:TEAM:USER` separated by white space, `#` to the end of a line a comment. An
/// error names the entry's line, never its text.
fn parse_keys(text: &str) -> Result<Vec<ApiKey>, String> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        for entry in line.split_whitespace() {
            let key = entry
                .parse::<ApiKey>()
                .map_err(|e| format!("line {}: {e}", n + 1))?;
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Writes `line` to stdout; a closed stdout (`serve ... | head -1`) is no reason to stop
/// serving, and other write errors have nowhere better to go, so they are dropped.
fn say(line: &str) {
    let _ = writeln!(io::stdout().lock(), "{line}");
}

#[cfg(feature = "faults")]
/// The fault catalog, one fault a line: name, description, the rule ids it breaks and where it
/// acts (`Fault::acts`). A reader that stops early (`| head -1`) ends the
/// listing quietly: the error is returned for the caller to treat as the end.
fn list_faults(out: &mut impl Write) -> io::Result<()> {
    let width = Fault::ALL.iter().map(|f| f.name().len()).max().unwrap_or(0);
    for fault in Fault::ALL {
        writeln!(
            out,
            "{:width$}  {} [{}] ({})",
            fault.name(),
            fault.description(),
            fault
                .rules()
                .iter()
                .map(|r| r.id())
                .collect::<Vec<_>>()
                .join(", "),
            fault.acts().name()
        )?;
    }
    out.flush()
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

/// Serves in the foreground as `args` say (or lists the faults), until the process ends.
/// Reads [`KEYS_VARIABLE`], logs each request to stdout and installs a `tracing` subscriber
/// for that (unless the program has one).
pub fn run(args: ServeArgs) -> Result<(), CliError> {
    let (addr, config) = match request(args, std::env::var_os(KEYS_VARIABLE))? {
        #[cfg(feature = "faults")]
        Request::ListFaults => {
            return match list_faults(&mut io::stdout().lock()) {
                Err(source) if source.kind() != io::ErrorKind::BrokenPipe => {
                    Err(CliError::Failed {
                        what: "cannot write the fault catalog",
                        source,
                    })
                }
                _ => Ok(()),
            };
        }
        Request::Serve { addr, config } => (addr, config),
    };
    let development = config.keys == Config::development().keys;
    // Log lines go where the banner goes; a closed stdout drops them without a complaint on
    // stderr for every request.
    let _ = tracing_subscriber::fmt()
        .with_target(false)
        .log_internal_errors(false)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Failed {
            what: "cannot start the async runtime",
            source,
        })?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| CliError::Listen { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| CliError::Listen { addr, source })?;
        say(&format!("reference server listening on http://{local}"));
        say(&format!(
            "OpenAPI document: http://{local}{}; health: http://{local}{}",
            crate::OPENAPI_PATH,
            crate::HEALTH_PATH
        ));
        if development {
            // Development keys are public by design: printing them is how a developer gets one.
            say(&format!(
                "development keys: {DEV_KEY} (team-a/user-a), {DEV_OTHER_TEAM_KEY} (team-b/user-b)"
            ));
        } else {
            let teams: Vec<String> = config
                .keys
                .iter()
                .map(|k| format!("{}/{}", k.team, k.user))
                .collect();
            let keys = match config.keys.len() {
                1 => "1 API key".to_owned(),
                n => format!("{n} API keys"),
            };
            say(&format!("{keys} for {}", teams.join(", ")));
        }
        if !config.cors_origins.is_empty() {
            say(&format!("CORS on for {}", config.cors_origins.join(", ")));
        }
        #[cfg(feature = "faults")]
        for fault in config.faults.iter() {
            say(&format!("FAULT ON: {} ({})", fault.name(), fault.description()));
        }
        say(&format!(
            "limits: {} connections, {} per client address, {} per key; header-read (and idle) timeout {} s; body and stalled-write timeout {} s; per team {} simulations and {} MiB",
            config.max_connections,
            config.max_connections_per_peer,
            config.max_connections_per_key,
            config.header_read_timeout.as_secs(),
            config.io_timeout.as_secs(),
            config.max_team_records,
            config.max_team_bytes / (1024 * 1024)
        ));
        let wanted = u64::try_from(config.max_connections)
            .unwrap_or(u64::MAX)
            .saturating_add(OWN_DESCRIPTORS);
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        if let Some(files) = open_file_limit(&limits)
            && files < wanted
        {
            // Past the open-file limit accepting fails until a connection closes, so the cap
            // would not be what bounds the server.
            say(&format!(
                "warning: the open-file limit (ulimit -n) is {files}, too low for {} connections; raise it or pass --max-connections {}",
                config.max_connections,
                files.saturating_sub(OWN_DESCRIPTORS).max(1)
            ));
        }
        crate::serve(listener, config)
            .await
            .map_err(|source| CliError::Failed {
                what: "the server stopped",
                source,
            })
    })
}

#[cfg(test)]
// Without the catalog, serving is the only request.
#[cfg_attr(not(feature = "faults"), allow(irrefutable_let_patterns))]
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
    fn parse(list: &[String]) -> Result<Request, CliError> {
        parse_with_env(list, None)
    }

    #[test]
    fn the_parsed_arguments_never_show_a_key_through_debug() {
        let parsed = <Serve as clap::Parser>::try_parse_from([
            "serve",
            "--api-key",
            "sekrit-key-value-1:team-x:user-x",
        ])
        .unwrap();
        let shown = format!("{:?}", parsed.args);
        assert!(!shown.contains("sekrit-key-value-1"), "{shown}");
        let request = request(parsed.args, None).unwrap();
        let shown = format!("{request:?}");
        assert!(!shown.contains("sekrit-key-value-1"), "{shown}");
    }

    /// [`parse`] with `SERVE_API_KEYS` set to `env`.
    fn parse_with_env(list: &[String], env: Option<&str>) -> Result<Request, CliError> {
        let parsed = <Serve as clap::Parser>::try_parse_from(
            std::iter::once("serve").chain(list.iter().map(String::as_str)),
        )
        .map_err(|e| CliError::Arguments(one_line(&e, "serve")))?;
        request(parsed.args, env.map(OsString::from))
    }

    fn config_of(request: Result<Request, CliError>) -> Config {
        match request {
            Ok(Request::Serve { config, .. }) => config,
            other => panic!("expected serve, got {other:?}"),
        }
    }

    /// A file in the target directory's temporary space, unique to `name`.
    fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("serve-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("write a temporary file");
        path
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
        assert_eq!(config.latency, Duration::from_millis(5));
        assert_eq!(config.max_connections, 64);
        assert_eq!(config.header_read_timeout, Duration::from_secs(2));
        assert_eq!(config.io_timeout, Duration::from_secs(3));
    }

    /// `--fault` repeated, or with names separated by commas, switches each on; a name given
    /// twice is one fault; a bad name among good ones is one error line.
    #[cfg(feature = "faults")]
    #[test]
    fn several_faults_are_switched_on_together() {
        assert_eq!(
            parse(&args(&["--list-faults"])).expect("parses"),
            Request::ListFaults
        );
        // Three faults of the catalog, named out of catalog order.
        let [first, second, third] = [Fault::ALL[0], Fault::ALL[1], Fault::ALL[2]];
        let config = config_of(parse(&args(&[
            "--fault",
            &format!("{second},{third}"),
            "--fault",
            first.name(),
            "--fault",
            third.name(),
        ])));
        assert_eq!(
            config.faults.iter().collect::<Vec<_>>(),
            [first, second, third]
        );
        assert!(config_of(parse(&[])).faults.is_empty());
        let good = first.name();
        for bad in [format!("{good},nope"), format!("{good},"), ",".to_owned()] {
            let bad = bad.as_str();
            let error = parse(&args(&["--fault", bad])).expect_err(bad).to_string();
            assert!(error.starts_with("error: "), "{error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    /// `--cors` takes origins as browsers send them (and `*`); anything else is one line.
    #[test]
    fn cors_origins_are_origins() {
        assert!(config_of(parse(&[])).cors_origins.is_empty());
        let config = config_of(parse(&args(&[
            "--cors",
            "http://localhost:3000",
            "--cors",
            "https://App.Example.com",
            "--cors",
            "http://[::1]:8080",
            "--cors",
            "*",
        ])));
        assert_eq!(
            config.cors_origins,
            [
                "http://localhost:3000",
                "https://app.example.com",
                "http://[::1]:8080",
                "*"
            ]
        );
        for bad in [
            "localhost:3000",
            "http://localhost:3000/",
            "http://x/path",
            "ftp://x",
            "http://",
            "http://a b",
            "http://x\u{1b}[2J",
            "",
        ] {
            let error = parse(&args(&["--cors", bad])).expect_err(bad).to_string();
            assert!(error.contains("not an origin"), "{bad}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
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

    /// Every number has a documented range: a value past it is one `error:` line naming the
    /// range, never a server that panics on every connection or never answers.
    #[test]
    fn absurd_numbers_are_refused_with_their_range() {
        let huge = u64::MAX.to_string();
        for flag in [
            "--latency",
            "--max-connections",
            "--max-connections-per-peer",
            "--max-connections-per-key",
            "--header-read-timeout",
            "--io-timeout",
            "--max-team-records",
            "--max-team-mib",
        ] {
            for (value, says) in [
                (huge.as_str(), "out of range: expected a whole number from"),
                ("-1", "out of range: expected a whole number from"),
                (
                    "1e3",
                    "not a whole number in digits: expected a whole number from",
                ),
                ("0x10", "not a number: expected a whole number from"),
            ] {
                let error = format!("{:#}", parse(&args(&[flag, value])).expect_err(flag));
                assert!(error.contains(says), "{flag} {value}: {error}");
                assert!(!error.contains('\n'), "{error}");
            }
        }
        let config = config_of(parse(&args(&[
            "--latency",
            "60000",
            "--header-read-timeout",
            "3600",
            "--io-timeout",
            "3600",
            "--max-connections-per-peer",
            "3",
            "--max-connections-per-key",
            "2",
            "--max-team-records",
            "7",
            "--max-team-mib",
            "2",
        ])));
        assert_eq!(config.latency, Duration::from_secs(60));
        assert_eq!(config.io_timeout, Duration::from_secs(3600));
        assert_eq!(config.max_connections_per_peer, 3);
        assert_eq!(config.max_connections_per_key, 2);
        assert_eq!(config.max_team_records, 7);
        assert_eq!(config.max_team_bytes, 2 * 1024 * 1024);
    }

    #[test]
    fn keys_come_from_a_file_and_the_environment_too() {
        let file = temp_file(
            "keys",
            b"# the QA keys\nk:ey-1:team-f:user-f   # a comment\n\n  k2:team-g:user-g\n",
        );
        let list = args(&[
            "--api-key",
            "argv-key:team-a:user-a",
            "--api-key-file",
            file.to_str().expect("UTF-8"),
        ]);
        let config = config_of(parse_with_env(
            &list,
            Some("env-1:team-e:u1 env-2:team-e:u2\n"),
        ));
        let keys: Vec<(&str, &str)> = config
            .keys
            .iter()
            .map(|k| (k.key.as_str(), k.team.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("argv-key", "team-a"),
                ("k:ey-1", "team-f"),
                ("k2", "team-g"),
                ("env-1", "team-e"),
                ("env-2", "team-e"),
            ]
        );
        // The variable alone replaces the development keys too.
        let config = config_of(parse_with_env(&[], Some("only:t:u")));
        assert_eq!(config.keys, [ApiKey::new("only", "t", "u")]);
        // Set but empty: no key from it, the development keys stay.
        let config = config_of(parse_with_env(&[], Some("  \n")));
        assert_eq!(config.keys, Config::development().keys);
        let _ = std::fs::remove_file(file);
    }

    /// A key source that cannot be read is one line naming the source (and the line), never
    /// the key.
    #[test]
    fn bad_key_sources_are_one_line_errors_without_the_key() {
        let malformed = temp_file("malformed", b"good:t:u\nsecret-one-part\n");
        let binary = temp_file("binary", b"secret-key:t:u\xff\n");
        let twice = temp_file("twice", b"secret-dup:t:u\nsecret-dup:t2:u2\n");
        let missing = std::env::temp_dir().join("serve-no-such-keys-file");
        let cases: [(Vec<String>, Option<&str>, &str); 7] = [
            (file_arg(&malformed), None, "line 2"),
            (file_arg(&binary), None, "not UTF-8"),
            (file_arg(&twice), None, "given twice"),
            (file_arg(&missing), None, "cannot open"),
            (
                Vec::new(),
                Some("ok:t:u secret-env-key"),
                "SERVE_API_KEYS: line 1",
            ),
            (
                args(&["--api-key", "secret-dup:t:u"]),
                Some("secret-dup:t:u"),
                "given twice",
            ),
            (
                Vec::new(),
                Some("secret-k:t\u{1b}[2J:u"),
                "control character",
            ),
        ];
        for (list, env, says) in cases {
            let error = format!("{:#}", parse_with_env(&list, env).expect_err(says));
            assert!(error.contains(says), "{error}");
            assert!(!error.contains('\n'), "{error}");
            assert!(!error.contains("secret"), "{error}");
        }
        for file in [malformed, binary, twice] {
            let _ = std::fs::remove_file(file);
        }
    }

    fn file_arg(path: &Path) -> Vec<String> {
        args(&["--api-key-file", path.to_str().expect("UTF-8")])
    }

    /// The listing stops at the first refused write and says so; `run` turns a broken pipe
    /// into a quiet exit 0.
    #[cfg(feature = "faults")]
    #[test]
    fn the_fault_listing_stops_at_a_closed_reader() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let error = list_faults(&mut Closed).expect_err("refused");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        let mut listed = Vec::new();
        list_faults(&mut listed).expect("written");
        assert_eq!(
            String::from_utf8_lossy(&listed).lines().count(),
            Fault::ALL.len()
        );
    }
}
