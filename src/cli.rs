//! What both binaries share: arguments, environment, logging, and printing
//! the one error line with its exit status.

use std::any::Any;
use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::panic::Location;
use std::process::ExitCode;

use crate::bridge_helper::{self, HelperError};
use crate::env::Env;
use crate::error::{Error, EXIT_FAILED};
use crate::escape::{escape, escape_os};
use crate::name::IfName;
use crate::policy::Caller;
use crate::{audit, check, helper, ifdown, ifup};

/// Which binary is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Ifup,
    Ifdown,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Ifup => "vnet-ifup",
            Tool::Ifdown => "vnet-ifdown",
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    Version,
    Run(IfName),
    Check(IfName),
    /// `vnet-ifup --network-up BRIDGE`: set a `[network]` up, no VM needed.
    NetworkUp(IfName),
    /// `vnet-ifup --network-down BRIDGE`: remove what vnet made for it.
    NetworkDown(IfName),
}

/// The whole program: `main` of both binaries is this one call.
pub fn main(tool: Tool) -> ExitCode {
    // panic = "abort" would end in SIGABRT; QEMU should see one line and
    // status 1. The hook exits, so nothing ever unwinds (see link.ld).
    std::panic::set_hook(Box::new(move |info| {
        let line = panic_line(tool, info.payload(), info.location());
        let _ = writeln!(io::stderr(), "{line}");
        std::process::exit(EXIT_FAILED.into());
    }));
    // A privileged helper becomes its caller, with CAP_NET_ADMIN alone, first.
    let ids = helper::privileged_caller();
    if let Some((uid, gid)) = ids {
        if let Err(e) = helper::drop_privileges(uid, gid) {
            let _ = writeln!(io::stderr(), "{}: cannot drop privileges: {e}", tool.name());
            return ExitCode::from(EXIT_FAILED);
        }
    }
    let caller = ids.map(|(uid, gid)| helper::caller(uid, gid));
    init_logging(tool);
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if tool == Tool::Ifup && bridge_helper::is_invocation(&args) {
        let mut out = String::new();
        let result = bridge_helper::run(&args, &Env::from_process(), caller.as_ref(), &mut out);
        print(&out);
        return finish(tool, result, HelperError::exit_code);
    }
    let result = run(tool, &args, &Env::from_process(), caller.as_ref());
    finish(tool, result, Error::exit_code)
}

/// The one place an error is printed: one line after the program's name.
fn finish<E: std::fmt::Display>(tool: Tool, result: Result<(), E>, code: fn(&E) -> u8) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "{}: {e}", tool.name());
            ExitCode::from(code(&e))
        }
    }
}

fn run(tool: Tool, args: &[OsString], env: &Env, caller: Option<&Caller>) -> Result<(), Error> {
    match parse_args(tool, args)? {
        Command::Help => {
            print(&help(tool));
            Ok(())
        }
        Command::Version => {
            print(&format!("{} {}\n", tool.name(), env!("CARGO_PKG_VERSION")));
            Ok(())
        }
        Command::Run(tap) => {
            let (result, bridge, done) = match tool {
                Tool::Ifup => attach(&tap, env, caller),
                Tool::Ifdown => match ifdown::run(&tap, caller) {
                    Ok(master) => (Ok(()), master, "detached"),
                    Err(e) => {
                        let master = e.bridge().map(str::to_owned);
                        (Err(e), master, "detached")
                    }
                },
            };
            if let Some(caller) = caller {
                audit::record(tool.name(), caller, &tap, bridge.as_deref(), done, &result);
            }
            result
        }
        // parse_args gives these to vnet-ifup only; saying so here lets
        // vnet-ifdown's build leave the network code out.
        Command::NetworkUp(bridge) if tool == Tool::Ifup => {
            print(&ifup::network_up(&bridge, env, caller)?);
            Ok(())
        }
        Command::NetworkDown(bridge) if tool == Tool::Ifup => {
            print(&ifup::network_down(&bridge, caller)?);
            Ok(())
        }
        Command::NetworkUp(_) | Command::NetworkDown(_) => Err(Error::Usage {
            tool: tool.name(),
            problem: "networks are set up and down by vnet-ifup".into(),
        }),
        Command::Check(tap) => {
            let mut out = String::new();
            let result = match tool {
                Tool::Ifup => ifup::settings(&tap, env, caller).and_then(|(config, resolved)| {
                    check::ifup(&tap, &config, &resolved, caller, &mut out)
                }),
                Tool::Ifdown => check::ifdown(&tap, caller, &mut out),
            };
            print(&out);
            result
        }
    }
}

/// Runs vnet-ifup; also returns the bridge, for the audit log.
fn attach(
    tap: &IfName,
    env: &Env,
    caller: Option<&Caller>,
) -> (Result<(), Error>, Option<String>, &'static str) {
    match ifup::settings(tap, env, caller) {
        Ok((config, settings)) => {
            let bridge = settings.bridge.value.to_string();
            let result = ifup::network(tap, &config, &settings, caller).and_then(|nl| match nl {
                Some(mut nl) => ifup::run_with(&mut nl, tap, &settings, caller),
                None => ifup::run(tap, &settings, caller),
            });
            (result, Some(bridge), "attached")
        }
        Err(e) => {
            let bridge = e.bridge().map(str::to_owned);
            (Err(e), bridge, "attached")
        }
    }
}

/// Parses argv without the program name. QEMU passes exactly one: the tap.
pub fn parse_args(tool: Tool, args: &[OsString]) -> Result<Command, Error> {
    let usage = |problem: String| Error::Usage {
        tool: tool.name(),
        problem,
    };
    let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
    let known = ["--help", "-h", "--version", "-V", "--check", "--"];
    let network = ["--network-up", "--network-down"];
    let unknown_option = |a: &OsStr| {
        a.to_str().is_some_and(|s| {
            s.starts_with('-')
                && !known.contains(&s)
                && !(tool == Tool::Ifup && network.contains(&s))
        })
    };
    let bridge = |arg: &OsStr| {
        IfName::from_os(arg).map_err(|reason| Error::Name {
            what: "bridge",
            name: arg.to_owned(),
            reason,
        })
    };
    match args.as_slice() {
        [] => Err(usage("missing the TAP argument".into())),
        [a, ..] if unknown_option(a) => Err(usage(format!("unknown option \"{}\"", escape_os(a)))),
        [a] if *a == "--help" || *a == "-h" => Ok(Command::Help),
        [a] if *a == "--version" || *a == "-V" => Ok(Command::Version),
        [a] if *a == "--check" || *a == "--" => {
            Err(usage(format!("\"{}\" needs a TAP", escape_os(a))))
        }
        [a] if network.iter().any(|n| a == n) => {
            Err(usage(format!("\"{}\" needs a BRIDGE", escape_os(a))))
        }
        [a, br] if *a == "--network-up" => bridge(br).map(Command::NetworkUp),
        [a, br] if *a == "--network-down" => bridge(br).map(Command::NetworkDown),
        [a, tap] if *a == "--check" => tap_name(tap).map(Command::Check),
        [a, tap] if *a == "--" => tap_name(tap).map(Command::Run),
        [tap] => tap_name(tap).map(Command::Run),
        [_, extra, ..] => Err(usage(format!(
            "unexpected argument \"{}\"",
            escape_os(extra)
        ))),
    }
}

fn tap_name(arg: &OsStr) -> Result<IfName, Error> {
    IfName::from_os(arg).map_err(|reason| Error::Name {
        what: "tap",
        name: arg.to_os_string(),
        reason,
    })
}

/// "vnet-ifup: internal error at src/x.rs:1:2: message", on one line:
/// the panic's own Display puts the message on a line of its own.
fn panic_line(tool: Tool, payload: &dyn Any, at: Option<&Location<'_>>) -> String {
    let message = match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(s), _) => s,
        (_, Some(s)) => s.as_str(),
        _ => "a panic",
    };
    let at = at.map(|l| format!(" at {l}")).unwrap_or_default();
    let message = escape(&message.replace('\n', " ")).into_owned();
    format!("{}: internal error{at}: {message}", tool.name())
}

fn print(text: &str) {
    // A closed stdout is not worth a failure; QEMU ignores our stdout anyway.
    let _ = io::stdout().write_all(text.as_bytes());
}

/// Logs in our own one-line format at VNET_LOG's level (warn by default).
/// We read VNET_LOG ourselves: env_logger would print its own complaint
/// about a bad value, raw and without our name, before our error line.
fn init_logging(tool: Tool) {
    let name = tool.name();
    let value = std::env::var_os("VNET_LOG").filter(|v| !v.is_empty());
    let level = value.as_deref().and_then(log_level);
    env_logger::Builder::new()
        .filter_level(level.unwrap_or(log::LevelFilter::Warn))
        .format(move |buf, record| {
            let level = match record.level() {
                log::Level::Warn => "warning".to_owned(),
                other => other.as_str().to_ascii_lowercase(),
            };
            writeln!(buf, "{name}: {level}: {}", record.args())
        })
        .init();
    if let (Some(value), None) = (value, level) {
        log::warn!(
            "VNET_LOG=\"{}\" is not off, error, warn, info or debug; using warn",
            escape_os(&value)
        );
    }
}

/// A level name as README and vnet-ifup(8) list them, in any case.
/// `trace` is not one: the binaries log nothing finer than `debug`
/// (release_max_level_debug), so it would silently act as `debug`.
fn log_level(value: &OsStr) -> Option<log::LevelFilter> {
    match value.to_str()?.trim().parse().ok()? {
        log::LevelFilter::Trace => None,
        level => Some(level),
    }
}

fn help(tool: Tool) -> String {
    let name = tool.name();
    // vnet-ifdown reads no configuration, VNET_CONFIG or VNET_BRIDGE: it
    // detaches the tap from whatever bridge it is on.
    let (verb, script, more, files, environment) = match tool {
        Tool::Ifup => (
            "put QEMU's tap TAP, up, on its bridge",
            "script=",
            "       vnet-ifup [--use-vnet] --br=BRIDGE --fd=N
                             QEMU's -netdev bridge,helper=: make a tap, put it on
                             BRIDGE, send it to QEMU over fd N
       vnet-ifup --check --br=BRIDGE   may I do that, and what would be done
       vnet-ifup --network-up BRIDGE    as root: set up BRIDGE's [network] section
                                        (bridge, address, forwarding, nftables, dnsmasq)
       vnet-ifup --network-down BRIDGE  as root: remove what vnet made for it
",
            "files:        /etc/vnet/vnet.conf (bridge, mtu, mac, port policy; [match GLOB] sections;
              [network BRIDGE] sections); /run/vnet/ (networks' locks, records, dnsmasq)
",
            "environment:  VNET_CONFIG=PATH  read another configuration file
              VNET_BRIDGE=NAME  use this bridge (beats the configuration)
              VNET_LOG=info|debug  say more on stderr
              VNET_RUNTIME_DIR=DIR  use DIR instead of /run/vnet (not as a privileged helper)",
        ),
        Tool::Ifdown => (
            "take QEMU's tap TAP off its bridge and set it down",
            "downscript=",
            "",
            "files:        none (the tap leaves whatever bridge it is on)\n",
            "environment:  VNET_LOG=info|debug  say more on stderr",
        ),
    };
    format!(
        "{name} {version}: {verb}, over rtnetlink.

usage: {name} TAP            QEMU runs this as its {script}
       {name} --check TAP    show what would be done and why; change nothing
{more}       {name} --help | --version

{files}{environment}
exit status:  0 done; 1 failed or refused; 2 bad usage, name or configuration
",
        version = env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
