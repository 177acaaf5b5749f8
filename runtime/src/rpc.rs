//! supervisord's XML-RPC interface (`supervisor/rpcinterface.py`, `supervisor/xmlrpc.py`):
//! method dispatch, parameters, faults and result structures.
//!
//! A method runs its checks and its action on the supervisor task ([`Handle::with`]); a
//! method that waits (`startProcess(name, wait=True)`, `stopProcess`, the group and `All`
//! variants) then waits for state changes ([`Handle::listen`]) instead of polling, and
//! re-checks the process each time one happens.
//!
//! Faults are supervisord's codes with its texts: `NAME` or `NAME: detail`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use dxr::{Fault, Value};

use crate::machine::State;
use crate::supervisor::{Handle, ProcessView, Refusal, Supervisor};

/// supervisord's fault codes (`supervisor/xmlrpc.py Faults`).
pub(crate) mod faults {
    pub const UNKNOWN_METHOD: i32 = 1;
    pub const INCORRECT_PARAMETERS: i32 = 2;
    pub const BAD_ARGUMENTS: i32 = 3;
    pub const SIGNATURE_UNSUPPORTED: i32 = 4;
    pub const SHUTDOWN_STATE: i32 = 6;
    pub const BAD_NAME: i32 = 10;
    pub const BAD_SIGNAL: i32 = 11;
    pub const NO_FILE: i32 = 20;
    pub const NOT_EXECUTABLE: i32 = 21;
    pub const FAILED: i32 = 30;
    pub const ABNORMAL_TERMINATION: i32 = 40;
    pub const SPAWN_ERROR: i32 = 50;
    pub const ALREADY_STARTED: i32 = 60;
    pub const NOT_RUNNING: i32 = 70;
    pub const SUCCESS: i32 = 80;
    pub const ALREADY_ADDED: i32 = 90;
    pub const STILL_RUNNING: i32 = 91;
    pub const CANT_REREAD: i32 = 92;

    /// The name supervisord puts first in a fault string.
    pub fn name(code: i32) -> &'static str {
        match code {
            UNKNOWN_METHOD => "UNKNOWN_METHOD",
            INCORRECT_PARAMETERS => "INCORRECT_PARAMETERS",
            BAD_ARGUMENTS => "BAD_ARGUMENTS",
            SIGNATURE_UNSUPPORTED => "SIGNATURE_UNSUPPORTED",
            SHUTDOWN_STATE => "SHUTDOWN_STATE",
            BAD_NAME => "BAD_NAME",
            BAD_SIGNAL => "BAD_SIGNAL",
            NO_FILE => "NO_FILE",
            NOT_EXECUTABLE => "NOT_EXECUTABLE",
            FAILED => "FAILED",
            ABNORMAL_TERMINATION => "ABNORMAL_TERMINATION",
            SPAWN_ERROR => "SPAWN_ERROR",
            ALREADY_STARTED => "ALREADY_STARTED",
            NOT_RUNNING => "NOT_RUNNING",
            SUCCESS => "SUCCESS",
            ALREADY_ADDED => "ALREADY_ADDED",
            STILL_RUNNING => "STILL_RUNNING",
            CANT_REREAD => "CANT_REREAD",
            _ => "FAILED",
        }
    }
}

/// supervisord's `RPCError.text`: `NAME` or `NAME: detail`.
fn fault_text(code: i32, detail: Option<&str>) -> String {
    match detail {
        Some(detail) => format!("{}: {detail}", faults::name(code)),
        None => faults::name(code).to_string(),
    }
}

fn fault(code: i32, detail: impl Into<String>) -> Fault {
    let detail = detail.into();
    Fault::new(code, fault_text(code, Some(&detail)))
}

fn bare_fault(code: i32) -> Fault {
    Fault::new(code, fault_text(code, None))
}

impl From<Refusal> for Fault {
    fn from(refusal: Refusal) -> Fault {
        Fault::new(
            refusal.code,
            fault_text(refusal.code, refusal.text.as_deref()),
        )
    }
}

/// One method svc serves: its name, its signature (return type, then parameter types, as
/// `system.methodSignature` gives them) and its help text (`system.methodHelp`).
struct Method {
    name: &'static str,
    signature: &'static [&'static str],
    help: &'static str,
}

/// The methods svc serves, sorted as `system.listMethods` returns them.
const METHODS: &[Method] = &[
    Method {
        name: "supervisor.addProcessGroup",
        signature: &["boolean", "string"],
        help: "Start a group of the configuration last read by reloadConfig.\n\n@param string name The group's name\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.clearAllProcessLogs",
        signature: &["array"],
        help: "Clear the stdout and stderr logs of every process.\n\n@return array One status struct per process",
    },
    Method {
        name: "supervisor.clearLog",
        signature: &["boolean"],
        help: "Clear the main log.\n\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.clearProcessLog",
        signature: &["boolean", "string"],
        help: "Clear a process's stdout and stderr logs (alias of clearProcessLogs).\n\n@param string name The process (or group:name)\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.clearProcessLogs",
        signature: &["boolean", "string"],
        help: "Clear a process's stdout and stderr logs.\n\n@param string name The process (or group:name)\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.getAPIVersion",
        signature: &["string"],
        help: "The version of this RPC API.\n\n@return string \"3.0\"",
    },
    Method {
        name: "supervisor.getAllConfigInfo",
        signature: &["array"],
        help: "The configuration of every process, in use or not, sorted by name.\n\n@return array One struct per process",
    },
    Method {
        name: "supervisor.getAllProcessInfo",
        signature: &["array"],
        help: "The state of every process, sorted by group and name.\n\n@return array One struct per process, as getProcessInfo",
    },
    Method {
        name: "supervisor.getIdentification",
        signature: &["string"],
        help: "The identifier of this supervisor ([supervisord] identifier).\n\n@return string The identifier",
    },
    Method {
        name: "supervisor.getPID",
        signature: &["int"],
        help: "The pid of the daemon.\n\n@return int The pid",
    },
    Method {
        name: "supervisor.getProcessInfo",
        signature: &["struct", "string"],
        help: "The state of one process.\n\n@param string name The process (or group:name)\n@return struct name, group, start, stop, now, state, statename, spawnerr, exitstatus, logfile, stdout_logfile, stderr_logfile, pid, description",
    },
    Method {
        name: "supervisor.getState",
        signature: &["struct"],
        help: "The state of the daemon.\n\n@return struct statecode and statename",
    },
    Method {
        name: "supervisor.getSupervisorVersion",
        signature: &["string"],
        help: "The supervisord version svc is compatible with.\n\n@return string \"4.3.0\"",
    },
    Method {
        name: "supervisor.getVersion",
        signature: &["string"],
        help: "The version of this RPC API (alias of getAPIVersion).\n\n@return string \"3.0\"",
    },
    Method {
        name: "supervisor.readLog",
        signature: &["string", "int", "int"],
        help: "Read the main log: length bytes from offset; a negative offset with length 0 reads that many bytes from the end.\n\n@param int offset Where to start\n@param int length How many bytes (0: to the end)\n@return string The bytes read",
    },
    Method {
        name: "supervisor.readMainLog",
        signature: &["string", "int", "int"],
        help: "Read the main log (alias of readLog).\n\n@param int offset Where to start\n@param int length How many bytes (0: to the end)\n@return string The bytes read",
    },
    Method {
        name: "supervisor.readProcessLog",
        signature: &["string", "string", "int", "int"],
        help: "Read a process's stdout log (alias of readProcessStdoutLog).\n\n@param string name The process (or group:name)\n@param int offset Where to start\n@param int length How many bytes (0: to the end)\n@return string The bytes read",
    },
    Method {
        name: "supervisor.readProcessStderrLog",
        signature: &["string", "string", "int", "int"],
        help: "Read a process's stderr log, as readLog reads the main log.\n\n@param string name The process (or group:name)\n@param int offset Where to start\n@param int length How many bytes (0: to the end)\n@return string The bytes read",
    },
    Method {
        name: "supervisor.readProcessStdoutLog",
        signature: &["string", "string", "int", "int"],
        help: "Read a process's stdout log, as readLog reads the main log.\n\n@param string name The process (or group:name)\n@param int offset Where to start\n@param int length How many bytes (0: to the end)\n@return string The bytes read",
    },
    Method {
        name: "supervisor.reloadConfig",
        signature: &["array"],
        help: "Read the configuration again and compare its groups with the running ones; nothing is applied.\n\n@return array [[added, changed, removed]] group names",
    },
    Method {
        name: "supervisor.removeProcessGroup",
        signature: &["boolean", "string"],
        help: "Forget a group whose processes have all stopped.\n\n@param string name The group's name\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.restart",
        signature: &["boolean"],
        help: "Stop every process, read the configuration again and start again (same pid).\n\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.sendProcessStdin",
        signature: &["boolean", "string", "string"],
        help: "Write to a process's stdin.\n\n@param string name The process (or group:name)\n@param string chars The text to write\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.sendRemoteCommEvent",
        signature: &["boolean", "string", "string"],
        help: "Send a REMOTE_COMMUNICATION event to the event listeners that subscribe to it.\n\n@param string type String for the \"type\" key in the event header\n@param string data Data for the event body\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.shutdown",
        signature: &["boolean"],
        help: "Stop every process in order, then exit.\n\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.signalAllProcesses",
        signature: &["array", "string"],
        help: "Send a signal to every running process.\n\n@param string signal A name (HUP, SIGHUP) or a number\n@return array One status struct per process",
    },
    Method {
        name: "supervisor.signalProcess",
        signature: &["boolean", "string", "string"],
        help: "Send a signal to a process (its pid only).\n\n@param string name The process (or group:name, or group:*)\n@param string signal A name (HUP, SIGHUP) or a number\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.signalProcessGroup",
        signature: &["array", "string", "string"],
        help: "Send a signal to every running process of a group.\n\n@param string name The group's name\n@param string signal A name (HUP, SIGHUP) or a number\n@return array One status struct per process",
    },
    Method {
        name: "supervisor.startAllProcesses",
        signature: &["array", "boolean"],
        help: "Start every process that is not running.\n\n@param boolean wait Wait for each to be RUNNING\n@return array One status struct per process",
    },
    Method {
        name: "supervisor.startProcess",
        signature: &["boolean", "string", "boolean"],
        help: "Start a process.\n\n@param string name The process (or group:name, or group:*)\n@param boolean wait Wait for it to be RUNNING\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.startProcessGroup",
        signature: &["array", "string", "boolean"],
        help: "Start every process of a group that is not running.\n\n@param string name The group's name\n@param boolean wait Wait for each to be RUNNING\n@return array One status struct per process",
    },
    Method {
        name: "supervisor.stopAllProcesses",
        signature: &["array", "boolean"],
        help: "Stop every running process.\n\n@param boolean wait Wait for each to stop\n@return array One status struct per process",
    },
    Method {
        name: "supervisor.stopProcess",
        signature: &["boolean", "string", "boolean"],
        help: "Stop a process.\n\n@param string name The process (or group:name, or group:*)\n@param boolean wait Wait for it to stop\n@return boolean Always true unless error",
    },
    Method {
        name: "supervisor.stopProcessGroup",
        signature: &["array", "string", "boolean"],
        help: "Stop every running process of a group.\n\n@param string name The group's name\n@param boolean wait Wait for each to stop\n@return array One status struct per process",
    },
    Method {
        name: "supervisor.tailProcessLog",
        signature: &["array", "string", "int", "int"],
        help: "Tail a process's stdout log (alias of tailProcessStdoutLog).\n\n@param string name The process (or group:name)\n@param int offset Where the last tail ended\n@param int length How many bytes at most\n@return array [string bytes, int offset, boolean overflow]",
    },
    Method {
        name: "supervisor.tailProcessStderrLog",
        signature: &["array", "string", "int", "int"],
        help: "Tail a process's stderr log.\n\n@param string name The process (or group:name)\n@param int offset Where the last tail ended\n@param int length How many bytes at most\n@return array [string bytes, int offset, boolean overflow]",
    },
    Method {
        name: "supervisor.tailProcessStdoutLog",
        signature: &["array", "string", "int", "int"],
        help: "Tail a process's stdout log: the bytes after offset; if more than length, the last length bytes and overflow true.\n\n@param string name The process (or group:name)\n@param int offset Where the last tail ended\n@param int length How many bytes at most\n@return array [string bytes, int offset, boolean overflow]",
    },
    Method {
        name: "svc.updatePlan",
        signature: &["struct"],
        help: "Beyond supervisord: what update would add, remove and restart, and which values changed, without applying anything.\n\n@return struct added, changed ([{group, changes}]), removed",
    },
    Method {
        name: "system.listMethods",
        signature: &["array"],
        help: "The methods this server serves.\n\n@return array Their names, sorted",
    },
    Method {
        name: "system.methodHelp",
        signature: &["string", "string"],
        help: "The help text of a method.\n\n@param string name The method\n@return string Its help",
    },
    Method {
        name: "system.methodSignature",
        signature: &["array", "string"],
        help: "The signature of a method: its return type, then its parameter types.\n\n@param string name The method\n@return array Type names",
    },
    Method {
        name: "system.multicall",
        signature: &["array", "array"],
        help: "Call several methods in one request, in order.\n\n@param array calls Structs of methodName and params\n@return array Each result, or a fault struct",
    },
];

fn method(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|method| method.name == name)
}

/// The positional parameters of a call.
struct Params {
    values: Vec<Value>,
}

impl Params {
    /// Fails unless the call has between `min` and `max` parameters (Python's TypeError).
    fn arity(&self, min: usize, max: usize) -> Result<(), Fault> {
        if (min..=max).contains(&self.values.len()) {
            Ok(())
        } else {
            Err(bare_fault(faults::INCORRECT_PARAMETERS))
        }
    }

    fn string(&self, index: usize) -> Result<String, Fault> {
        match self.values.get(index) {
            Some(Value::String(text)) => Ok(text.clone()),
            _ => Err(bare_fault(faults::INCORRECT_PARAMETERS)),
        }
    }

    fn int(&self, index: usize) -> Result<i64, Fault> {
        match self.values.get(index) {
            Some(Value::Integer(value)) => Ok(i64::from(*value)),
            Some(Value::Long(value)) => Ok(*value),
            _ => Err(bare_fault(faults::INCORRECT_PARAMETERS)),
        }
    }

    /// An optional boolean (Python truthiness for the common types).
    fn flag(&self, index: usize, default: bool) -> Result<bool, Fault> {
        match self.values.get(index) {
            None => Ok(default),
            Some(Value::Boolean(value)) => Ok(*value),
            Some(Value::Integer(value)) => Ok(*value != 0),
            Some(Value::String(text)) => Ok(!text.is_empty()),
            _ => Err(bare_fault(faults::INCORRECT_PARAMETERS)),
        }
    }
}

fn string(text: impl Into<String>) -> Value {
    Value::String(text.into())
}

fn structure(members: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Struct(
        members
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Epoch seconds capped to the XML-RPC int range (supervisord's `capped_int`).
fn capped(time: Option<SystemTime>) -> i32 {
    let seconds = time
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_secs());
    i32::try_from(seconds).unwrap_or(i32::MAX)
}

/// `str(datetime.timedelta(seconds=n))`: `0:01:02`, `1 day, 2:03:04`.
fn timedelta(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let clock = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        _ => format!("{days} days, {clock}"),
    }
}

/// Local time as `strftime('%b %d %I:%M %p')`: `Nov 21 06:29 PM`.
fn stop_time(epoch: i32) -> String {
    let seconds = libc::time_t::from(epoch);
    // SAFETY: localtime_r writes into the zeroed struct we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&seconds, &mut tm) };
    let hour12 = match tm.tm_hour % 12 {
        0 => 12,
        hour => hour,
    };
    format!(
        "{} {:02} {:02}:{:02} {}",
        crate::logs::MONTHS[usize::try_from(tm.tm_mon).unwrap_or(0) % 12],
        tm.tm_mday,
        hour12,
        tm.tm_min,
        if tm.tm_hour < 12 { "AM" } else { "PM" }
    )
}

/// A member of a struct written without building a [`Value`].
enum Member<'a> {
    Text(std::borrow::Cow<'a, str>),
    Int(i32),
}

/// supervisord's `getProcessInfo` struct with its `description`, as members sorted by name
/// (the order a [`Value::Struct`] has): [`process_info`] and [`write_all_process_info`]
/// both read it, so the fast path and the generic one cannot differ.
fn process_info_members(view: &ProcessView, now: i32) -> [(&'static str, Member<'_>); 14] {
    use std::borrow::Cow;
    let start = capped(view.laststart);
    let stop = capped(view.laststop);
    let spawnerr = view.spawnerr.as_deref().unwrap_or_default();
    let description: Cow<'_, str> = match view.state {
        State::Running => Cow::Owned(format!(
            "pid {}, uptime {}",
            view.pid.unwrap_or(0),
            timedelta(i64::from(now) - i64::from(start))
        )),
        State::Fatal | State::Backoff if !spawnerr.is_empty() => Cow::Borrowed(spawnerr),
        State::Fatal | State::Backoff => {
            Cow::Owned(format!("unknown error (try \"tail {}\")", view.name))
        }
        State::Stopped | State::Exited if start != 0 => Cow::Owned(stop_time(stop)),
        State::Stopped | State::Exited => Cow::Borrowed("Not started"),
        _ => Cow::Borrowed(""),
    };
    fn path(path: &Option<std::path::PathBuf>) -> Cow<'_, str> {
        path.as_ref()
            .map_or(Cow::Borrowed(""), |p| p.to_string_lossy())
    }
    [
        ("description", Member::Text(description)),
        ("exitstatus", Member::Int(view.exitstatus.unwrap_or(0))),
        ("group", Member::Text(Cow::Borrowed(&view.group))),
        ("logfile", Member::Text(path(&view.stdout_logfile))),
        ("name", Member::Text(Cow::Borrowed(&view.name))),
        ("now", Member::Int(now)),
        ("pid", Member::Int(view.pid.unwrap_or(0))),
        ("spawnerr", Member::Text(Cow::Borrowed(spawnerr))),
        ("start", Member::Int(start)),
        ("state", Member::Int(view.state as i32)),
        ("statename", Member::Text(Cow::Borrowed(view.state.name()))),
        ("stderr_logfile", Member::Text(path(&view.stderr_logfile))),
        ("stdout_logfile", Member::Text(path(&view.stdout_logfile))),
        ("stop", Member::Int(stop)),
    ]
}

/// supervisord's `getProcessInfo` struct.
fn process_info(view: &ProcessView) -> Value {
    process_info_at(view, capped(Some(SystemTime::now())))
}

/// [`process_info`] with `now` given.
fn process_info_at(view: &ProcessView, now: i32) -> Value {
    structure(process_info_members(view, now).map(|(name, member)| {
        let value = match member {
            Member::Text(text) => string(text.into_owned()),
            Member::Int(number) => Value::Integer(number),
        };
        (name, value)
    }))
}

/// The whole `getAllProcessInfo` response, written straight from the processes: no
/// [`Value`] tree (a thousand structs of fourteen members) is built and dropped. The bytes
/// are those [`response_xml`] writes for the same structs.
fn write_all_process_info(views: impl ExactSizeIterator<Item = ProcessView>, now: i32) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(256 + views.len() * 1024);
    out.push_str("<methodResponse><params><param><value><array><data>");
    for view in views {
        out.push_str("<value><struct>");
        for (name, member) in process_info_members(&view, now) {
            out.push_str("<member><name>");
            out.push_str(name);
            out.push_str("</name>");
            match member {
                Member::Text(text) => {
                    out.push_str("<value><string>");
                    escape_into(&text, &mut out);
                    out.push_str("</string></value>");
                }
                Member::Int(number) => {
                    let _ = write!(out, "<value><int>{number}</int></value>");
                }
            }
            out.push_str("</member>");
        }
        out.push_str("</struct></value>");
    }
    out.push_str("</data></array></value></param></params></methodResponse>");
    out
}

/// One entry of a group/all result array.
fn status(view: &ProcessView, code: i32, description: String) -> Value {
    structure([
        ("name", string(&view.name)),
        ("group", string(&view.group)),
        ("status", Value::Integer(code)),
        ("description", string(description)),
    ])
}

/// The `<methodResponse>` document of a result, written straight into one buffer (a
/// `getAllProcessInfo` of 1,000 processes is a megabyte; building it through a generic
/// serializer costs more than everything else the call does). Strings are escaped as
/// Python's `xmlrpc.client` escapes them (`&`, `<`, `>`); the rare types svc never sends
/// itself go through dxr.
pub(crate) fn response_xml(result: &Result<Value, Fault>) -> Result<String, dxr::Error> {
    // About a kilobyte per element of a result array (a process info struct is one).
    let size = match result {
        Ok(Value::Array(items)) => 256 + items.len() * 1024,
        _ => 256,
    };
    let mut out = String::with_capacity(size);
    match result {
        Ok(value) => {
            out.push_str("<methodResponse><params><param>");
            write_value(value, &mut out)?;
            out.push_str("</param></params></methodResponse>");
        }
        Err(fault) => {
            out.push_str("<methodResponse><fault>");
            write_value(
                &structure([
                    ("faultCode", Value::Integer(fault.code())),
                    ("faultString", string(fault.string())),
                ]),
                &mut out,
            )?;
            out.push_str("</fault></methodResponse>");
        }
    }
    Ok(out)
}

fn escape_into(mut text: &str, out: &mut String) {
    let special = |byte: &u8| matches!(byte, b'&' | b'<' | b'>');
    if !text.as_bytes().iter().any(special) {
        out.push_str(text);
        return;
    }
    while let Some(at) = text.as_bytes().iter().position(special) {
        out.push_str(&text[..at]);
        out.push_str(match text.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            _ => "&gt;",
        });
        text = &text[at + 1..];
    }
    out.push_str(text);
}

fn write_value(value: &Value, out: &mut String) -> Result<(), dxr::Error> {
    use std::fmt::Write as _;
    match value {
        Value::Integer(number) => {
            let _ = write!(out, "<value><int>{number}</int></value>");
        }
        Value::Long(number) => {
            let _ = write!(out, "<value><i8>{number}</i8></value>");
        }
        Value::Boolean(flag) => {
            let _ = write!(out, "<value><boolean>{}</boolean></value>", u8::from(*flag));
        }
        Value::String(text) => {
            out.push_str("<value><string>");
            escape_into(text, out);
            out.push_str("</string></value>");
        }
        Value::Struct(members) => {
            out.push_str("<value><struct>");
            for (name, member) in members {
                out.push_str("<member><name>");
                escape_into(name, out);
                out.push_str("</name>");
                write_value(member, out)?;
                out.push_str("</member>");
            }
            out.push_str("</struct></value>");
        }
        Value::Array(items) => {
            out.push_str("<value><array><data>");
            for item in items {
                write_value(item, out)?;
            }
            out.push_str("</data></array></value>");
        }
        Value::Nil => out.push_str("<value><nil/></value>"),
        other => out.push_str(&other.to_xml()?),
    }
    Ok(())
}

/// supervisord's `signal_number`: a number, or a name with or without `SIG`.
fn signal_number(value: &Value) -> Option<i32> {
    let text = match value {
        Value::Integer(number) => return valid_signal(*number),
        Value::String(text) => text.trim(),
        _ => return None,
    };
    if let Ok(number) = text.parse::<i32>() {
        return valid_signal(number);
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .ok()
        .map(|signal| signal as i32)
}

fn valid_signal(number: i32) -> Option<i32> {
    nix::sys::signal::Signal::try_from(number)
        .ok()
        .map(|signal| signal as i32)
}

/// The XML-RPC interface of one daemon.
pub(crate) struct Api {
    handle: Handle,
    pid: u32,
}

/// What a single-process operation does while the result array of a group/all call is
/// built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operation {
    Start,
    Stop,
}

impl Api {
    pub(crate) fn new(handle: Handle) -> Api {
        Api {
            handle,
            pid: std::process::id(),
        }
    }

    /// Runs `work` on the supervisor; a stopped supervisor is SHUTDOWN_STATE.
    async fn with<R: 'static>(
        &self,
        work: impl FnOnce(&mut Supervisor) -> R + 'static,
    ) -> Result<R, Fault> {
        self.handle
            .with(work)
            .await
            .ok_or_else(|| bare_fault(faults::SHUTDOWN_STATE))
    }

    /// Runs `work` unless the daemon is shutting down or restarting (supervisord's
    /// `_update`).
    async fn update<R: 'static>(
        &self,
        work: impl FnOnce(&mut Supervisor) -> Result<R, Fault> + 'static,
    ) -> Result<R, Fault> {
        self.with(move |supervisor| {
            if supervisor.is_stopping() {
                Err(bare_fault(faults::SHUTDOWN_STATE))
            } else {
                work(supervisor)
            }
        })
        .await?
    }

    /// `getAllProcessInfo()` as the whole response document, the fast path of `/RPC2`
    /// (what `supervisorctl status` and dashboards call most).
    pub(crate) async fn all_process_info_xml(&self) -> Result<String, Fault> {
        self.update(|s| {
            let ids = s.all_lexical();
            let now = capped(Some(SystemTime::now()));
            Ok(write_all_process_info(
                ids.into_iter().map(|id| s.view(id)),
                now,
            ))
        })
        .await
    }

    /// Calls one method.
    pub(crate) async fn call(&self, name: &str, params: Vec<Value>) -> Result<Value, Fault> {
        let params = Params { values: params };
        match name {
            "system.listMethods" => {
                params.arity(0, 0)?;
                Ok(Value::Array(
                    METHODS.iter().map(|m| string(m.name)).collect(),
                ))
            }
            "system.methodHelp" | "system.methodSignature" => {
                params.arity(1, 1)?;
                let wanted = params.string(0)?;
                let found =
                    method(&wanted).ok_or_else(|| bare_fault(faults::SIGNATURE_UNSUPPORTED))?;
                Ok(if name == "system.methodHelp" {
                    string(found.help)
                } else {
                    Value::Array(found.signature.iter().map(|t| string(*t)).collect())
                })
            }
            "system.multicall" => {
                params.arity(1, 1)?;
                self.multicall(&params.values[0]).await
            }
            "supervisor.getAPIVersion" | "supervisor.getVersion" => {
                params.arity(0, 0)?;
                self.update(|_| Ok(string("3.0"))).await
            }
            "supervisor.getSupervisorVersion" => {
                params.arity(0, 0)?;
                self.update(|_| Ok(string("4.3.0"))).await
            }
            "supervisor.getIdentification" => {
                params.arity(0, 0)?;
                self.update(|s| Ok(string(s.identifier()))).await
            }
            "supervisor.getState" => {
                params.arity(0, 0)?;
                self.update(|_| {
                    Ok(structure([
                        ("statecode", Value::Integer(1)),
                        ("statename", string("RUNNING")),
                    ]))
                })
                .await
            }
            "supervisor.getPID" => {
                params.arity(0, 0)?;
                let pid = i32::try_from(self.pid).unwrap_or(0);
                self.update(move |_| Ok(Value::Integer(pid))).await
            }
            "supervisor.shutdown" => {
                params.arity(0, 0)?;
                self.update(|s| {
                    s.request_shutdown();
                    Ok(Value::Boolean(true))
                })
                .await
            }
            "supervisor.restart" => {
                params.arity(0, 0)?;
                self.update(|s| {
                    s.request_restart();
                    Ok(Value::Boolean(true))
                })
                .await
            }
            "supervisor.readLog" | "supervisor.readMainLog" => {
                params.arity(2, 2)?;
                let (offset, length) = (params.int(0)?, params.int(1)?);
                let path = self.update(|s| Ok(s.main_log_path())).await?;
                read_log(path.as_deref(), offset, length)
            }
            "supervisor.getProcessInfo" => {
                params.arity(1, 1)?;
                let name = params.string(0)?;
                self.update(move |s| match s.lookup(&name) {
                    Some((_, Some(id))) => Ok(process_info(&s.view(id))),
                    _ => Err(fault(faults::BAD_NAME, name)),
                })
                .await
            }
            "supervisor.getAllProcessInfo" => {
                params.arity(0, 0)?;
                self.update(|s| {
                    let now = capped(Some(SystemTime::now()));
                    Ok(Value::Array(
                        s.all_lexical()
                            .into_iter()
                            .map(|id| process_info_at(&s.view(id), now))
                            .collect(),
                    ))
                })
                .await
            }
            "supervisor.startProcess" | "supervisor.stopProcess" => {
                params.arity(1, 2)?;
                let target = params.string(0)?;
                let wait = params.flag(1, true)?;
                let operation = if name == "supervisor.startProcess" {
                    Operation::Start
                } else {
                    Operation::Stop
                };
                self.process_or_group(target, operation, wait).await
            }
            "supervisor.startProcessGroup" | "supervisor.stopProcessGroup" => {
                params.arity(1, 2)?;
                let group = params.string(0)?;
                let wait = params.flag(1, true)?;
                let operation = if name == "supervisor.startProcessGroup" {
                    Operation::Start
                } else {
                    Operation::Stop
                };
                let ids = self
                    .update(move |s| match s.lookup(&format!("{group}:*")) {
                        Some((group, None)) => Ok(s.members_by_priority(group)),
                        _ => Err(fault(faults::BAD_NAME, group)),
                    })
                    .await?;
                self.many(ids, operation, wait).await
            }
            "supervisor.startAllProcesses" | "supervisor.stopAllProcesses" => {
                params.arity(0, 1)?;
                let wait = params.flag(0, true)?;
                let operation = if name == "supervisor.startAllProcesses" {
                    Operation::Start
                } else {
                    Operation::Stop
                };
                let ids = self.update(|s| Ok(s.all_by_priority())).await?;
                self.many(ids, operation, wait).await
            }
            "supervisor.signalProcess" => {
                params.arity(2, 2)?;
                let name = params.string(0)?;
                let signal = params.values[1].clone();
                self.update(move |s| {
                    let target = s
                        .lookup(&name)
                        .ok_or_else(|| fault(faults::BAD_NAME, name.clone()))?;
                    let number = signal_number(&signal)
                        .ok_or_else(|| fault(faults::BAD_SIGNAL, display_value(&signal)));
                    match target {
                        (_, Some(id)) => {
                            s.signal_process(id, number?)?;
                            Ok(Value::Boolean(true))
                        }
                        (group, None) => Ok(signal_all(s, s.members_by_priority(group), number)),
                    }
                })
                .await
            }
            "supervisor.signalProcessGroup" => {
                params.arity(2, 2)?;
                let group = params.string(0)?;
                let signal = params.values[1].clone();
                self.update(move |s| {
                    let Some((group_index, None)) = s.lookup(&format!("{group}:*")) else {
                        return Err(fault(faults::BAD_NAME, group));
                    };
                    let number = signal_number(&signal)
                        .ok_or_else(|| fault(faults::BAD_SIGNAL, display_value(&signal)));
                    Ok(signal_all(s, s.members_by_priority(group_index), number))
                })
                .await
            }
            "supervisor.signalAllProcesses" => {
                params.arity(1, 1)?;
                let signal = params.values[0].clone();
                self.update(move |s| {
                    let number = signal_number(&signal)
                        .ok_or_else(|| fault(faults::BAD_SIGNAL, display_value(&signal)));
                    Ok(signal_all(s, s.all_by_priority(), number))
                })
                .await
            }
            "supervisor.readProcessStdoutLog"
            | "supervisor.readProcessLog"
            | "supervisor.readProcessStderrLog" => {
                params.arity(3, 3)?;
                let stderr = name == "supervisor.readProcessStderrLog";
                let path = self.log_path(params.string(0)?, stderr).await?;
                read_log(path.as_deref(), params.int(1)?, params.int(2)?)
            }
            "supervisor.tailProcessStdoutLog"
            | "supervisor.tailProcessLog"
            | "supervisor.tailProcessStderrLog" => {
                params.arity(3, 3)?;
                let stderr = name == "supervisor.tailProcessStderrLog";
                let path = self.log_path(params.string(0)?, stderr).await?;
                let (offset, length) = (params.int(1)?, params.int(2)?);
                Ok(match path.filter(|path| path.exists()) {
                    Some(path) => tail_file(&path, offset, length),
                    // supervisord: no log, or a log file that is gone, tails as nothing.
                    None => {
                        Value::Array(vec![string(""), Value::Integer(0), Value::Boolean(false)])
                    }
                })
            }
            "supervisor.clearLog" => {
                params.arity(0, 0)?;
                self.update(|s| {
                    s.clear_main_log()?;
                    Ok(Value::Boolean(true))
                })
                .await
            }
            "supervisor.clearProcessLogs" | "supervisor.clearProcessLog" => {
                params.arity(1, 1)?;
                let target = params.string(0)?;
                self.update(move |s| match s.lookup(&target) {
                    Some((_, Some(id))) => {
                        s.clear_process_logs(id)?;
                        Ok(Value::Boolean(true))
                    }
                    _ => Err(fault(faults::BAD_NAME, target)),
                })
                .await
            }
            "supervisor.clearAllProcessLogs" => {
                params.arity(0, 0)?;
                self.update(|s| {
                    let results = s
                        .all_by_priority()
                        .into_iter()
                        .map(|id| {
                            let view = s.view(id);
                            match s.clear_process_logs(id) {
                                Ok(()) => status(&view, faults::SUCCESS, "OK".into()),
                                Err(refusal) => {
                                    let fault = Fault::from(refusal);
                                    status(&view, fault.code(), fault.string().to_string())
                                }
                            }
                        })
                        .collect();
                    Ok(Value::Array(results))
                })
                .await
            }
            "supervisor.sendProcessStdin" => {
                params.arity(2, 2)?;
                let target = params.string(0)?;
                let data = match &params.values[1] {
                    Value::String(text) => text.clone().into_bytes(),
                    Value::Base64(bytes) => bytes.clone(),
                    other => {
                        return Err(fault(faults::INCORRECT_PARAMETERS, display_value(other)));
                    }
                };
                self.update(move |s| match s.lookup(&target) {
                    Some((_, Some(id))) => {
                        s.send_stdin(id, &data)?;
                        Ok(Value::Boolean(true))
                    }
                    _ => Err(fault(faults::BAD_NAME, target)),
                })
                .await
            }
            "supervisor.sendRemoteCommEvent" => {
                params.arity(2, 2)?;
                // supervisord formats both with `%s`: any XML-RPC value is taken.
                let kind = display_value(&params.values[0]);
                let data = display_value(&params.values[1]);
                self.update(move |s| {
                    s.remote_event(&kind, &data);
                    Ok(Value::Boolean(true))
                })
                .await
            }
            "supervisor.reloadConfig" => {
                params.arity(0, 0)?;
                self.update(|s| {
                    let lists = s.reload_config()?;
                    let names = |names: &Vec<String>| {
                        Value::Array(names.iter().map(|n| string(n.as_str())).collect())
                    };
                    Ok(Value::Array(vec![Value::Array(
                        lists.iter().map(names).collect(),
                    )]))
                })
                .await
            }
            "svc.updatePlan" => {
                params.arity(0, 0)?;
                self.update(|s| {
                    let plan = s.update_plan()?;
                    let names = |names: &[String]| {
                        Value::Array(names.iter().map(|n| string(n.as_str())).collect())
                    };
                    let changed = plan
                        .changed
                        .iter()
                        .map(|(group, changes)| {
                            structure([("group", string(group)), ("changes", names(changes))])
                        })
                        .collect();
                    Ok(structure([
                        ("added", names(&plan.added)),
                        ("changed", Value::Array(changed)),
                        ("removed", names(&plan.removed)),
                    ]))
                })
                .await
            }
            "supervisor.addProcessGroup" | "supervisor.removeProcessGroup" => {
                params.arity(1, 1)?;
                let group = params.string(0)?;
                let add = name == "supervisor.addProcessGroup";
                self.update(move |s| {
                    if add {
                        s.add_group(&group)?;
                    } else {
                        s.remove_group(&group)?;
                    }
                    Ok(Value::Boolean(true))
                })
                .await
            }
            "supervisor.getAllConfigInfo" => {
                params.arity(0, 0)?;
                self.update(|s| {
                    Ok(Value::Array(
                        s.config_info().iter().map(config_info).collect(),
                    ))
                })
                .await
            }
            _ => Err(bare_fault(faults::UNKNOWN_METHOD)),
        }
    }
}

/// `none` for a missing value, as supervisord sends `None` over XML-RPC.
fn or_none(value: Option<String>) -> Value {
    string(value.unwrap_or_else(|| "none".to_string()))
}

/// A log setting as supervisord shows it: `auto` (or, in use, its file), `none` or the path.
fn logfile(file: &svc_schema::LogFile, running: &Option<std::path::PathBuf>) -> Value {
    match file {
        svc_schema::LogFile::Auto => match running {
            Some(path) => string(path.display().to_string()),
            None => string("auto"),
        },
        svc_schema::LogFile::None => string("none"),
        svc_schema::LogFile::File(path) => string(path),
    }
}

fn int(value: i64) -> Value {
    Value::Integer(i32::try_from(value).unwrap_or(i32::MAX))
}

/// One `getAllConfigInfo` struct.
fn config_info(view: &crate::supervisor::ConfigView) -> Value {
    let p = &view.process;
    let uid = p.user.as_ref().and_then(|user| {
        let record = match user.parse::<u32>() {
            Ok(uid) => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)),
            Err(_) => nix::unistd::User::from_name(user),
        };
        record.ok().flatten().map(|record| record.uid.as_raw())
    });
    let mut info = structure([
        ("autostart", Value::Boolean(p.autostart)),
        ("directory", or_none(p.directory.clone())),
        (
            "uid",
            uid.map_or_else(|| string("none"), |uid| int(i64::from(uid))),
        ),
        ("command", string(&p.command)),
        (
            "exitcodes",
            Value::Array(
                p.exitcodes
                    .iter()
                    .map(|&c| Value::Integer(i32::from(c)))
                    .collect(),
            ),
        ),
        ("group", string(&view.group)),
        ("group_prio", int(view.group_prio)),
        ("inuse", Value::Boolean(view.inuse)),
        ("killasgroup", Value::Boolean(p.killasgroup)),
        ("name", string(&p.name)),
        ("process_prio", int(p.priority)),
        ("redirect_stderr", Value::Boolean(p.redirect_stderr)),
        ("startretries", int(p.startretries)),
        ("startsecs", int(p.startsecs)),
        ("stopsignal", Value::Integer(p.stopsignal)),
        ("stopwaitsecs", int(p.stopwaitsecs)),
        ("serverurl", or_none(p.serverurl.clone())),
    ]);
    if let Value::Struct(members) = &mut info {
        for (channel, stream, running) in [
            ("stdout", &p.stdout, &view.stdout_logfile),
            ("stderr", &p.stderr, &view.stderr_logfile),
        ] {
            for (key, value) in [
                ("capture_maxbytes", int(stream.capture_maxbytes)),
                ("events_enabled", Value::Boolean(stream.events_enabled)),
                ("logfile", logfile(&stream.logfile, running)),
                ("logfile_backups", int(stream.logfile_backups)),
                ("logfile_maxbytes", int(stream.logfile_maxbytes)),
                ("syslog", Value::Boolean(stream.syslog)),
            ] {
                members.insert(format!("{channel}_{key}"), value);
            }
        }
    }
    info
}

/// `signalProcessGroup`/`signalAllProcesses`: the result array over the signallable
/// processes; a bad signal is a BAD_SIGNAL result for each of them, as in supervisord.
fn signal_all(supervisor: &mut Supervisor, ids: Vec<usize>, signal: Result<i32, Fault>) -> Value {
    let mut results = Vec::new();
    for id in ids {
        let view = supervisor.view(id);
        if !matches!(
            view.state,
            State::Running | State::Starting | State::Stopping
        ) {
            continue;
        }
        let outcome = signal
            .clone()
            .and_then(|signal| Ok(supervisor.signal_process(id, signal)?));
        let (code, description) = match outcome {
            Ok(()) => (faults::SUCCESS, "OK".to_string()),
            Err(fault) => (fault.code(), fault.string().to_string()),
        };
        results.push(status(&view, code, description));
    }
    Value::Array(results)
}

/// How a bad value is shown in a fault (Python's `str()` of it).
fn display_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Integer(number) => number.to_string(),
        Value::Long(number) => number.to_string(),
        Value::Boolean(flag) => if *flag { "True" } else { "False" }.to_string(),
        other => format!("{other:?}"),
    }
}

/// How far apart supervisord's checks of a group operation's processes are at least
/// (`make_allfunc`'s callback `delay`): processes that finish within one window of each
/// other are reported in process order, later ones after them.
const RESULT_WINDOW: std::time::Duration = std::time::Duration::from_millis(50);

/// Waits for the next state change, or until `deadline` (a stop report is due, or a
/// window of results closes).
async fn until(changed: event_listener::EventListener, deadline: Option<std::time::Instant>) {
    match deadline {
        Some(at) => {
            smol::future::or(changed, async {
                smol::Timer::at(at).await;
            })
            .await
        }
        None => changed.await,
    }
}

fn earliest(
    a: Option<std::time::Instant>,
    b: Option<std::time::Instant>,
) -> Option<std::time::Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Where a single process's wait stands.
enum Progress {
    Done(Result<(), Fault>),
    Waiting,
}

/// `startProcess`'s `onwait`: RUNNING is done; a spawn error or any state other than
/// STARTING ends the wait with a fault.
fn start_progress(view: &ProcessView, namespec: &str) -> Progress {
    if view.spawnerr.is_some() {
        return Progress::Done(Err(fault(faults::SPAWN_ERROR, namespec)));
    }
    match view.state {
        State::Running => Progress::Done(Ok(())),
        State::Starting => Progress::Waiting,
        _ => Progress::Done(Err(fault(faults::ABNORMAL_TERMINATION, namespec))),
    }
}

/// `stopProcess`'s `onwait`: done in any stopped state.
fn stop_progress(view: &ProcessView) -> Progress {
    if view.state.is_stopped() {
        Progress::Done(Ok(()))
    } else {
        Progress::Waiting
    }
}

impl Api {
    /// `startProcess`/`stopProcess`: one process, or a whole group for `group:*`.
    async fn process_or_group(
        &self,
        target: String,
        operation: Operation,
        wait: bool,
    ) -> Result<Value, Fault> {
        let lookup = target.clone();
        let found = self
            .update(move |s| {
                s.lookup(&lookup)
                    .ok_or_else(|| fault(faults::BAD_NAME, lookup))
            })
            .await?;
        let id = match found {
            (_, Some(id)) => id,
            (group, None) => {
                let ids = self.with(move |s| s.members_by_priority(group)).await?;
                return self.many(ids, operation, wait).await;
            }
        };
        self.with(move |s| match operation {
            Operation::Start => s.start_process(id),
            Operation::Stop => {
                s.stop_process(id)?;
                // supervisord's first `onwait` runs before the main loop can reap the child:
                // a stop that waits logs `waiting for <name> to stop` once at least.
                if wait {
                    s.stop_report(id);
                }
                Ok(())
            }
        })
        .await??;
        if wait {
            self.wait(id, operation).await?;
        }
        Ok(Value::Boolean(true))
    }

    /// Waits until the started or stopped process is done; a stop logs `waiting for <name>
    /// to stop` every 2 seconds meanwhile, as supervisord does.
    async fn wait(&self, id: usize, operation: Operation) -> Result<(), Fault> {
        loop {
            let changed = self.handle.listen();
            let (progress, report_at) = self
                .with(move |s| {
                    let view = s.view(id);
                    match operation {
                        Operation::Start => (start_progress(&view, &s.namespec(id)), None),
                        Operation::Stop => {
                            let progress = stop_progress(&view);
                            let report_at = match progress {
                                Progress::Waiting => s.stop_report(id),
                                Progress::Done(_) => None,
                            };
                            (progress, report_at)
                        }
                    }
                })
                .await?;
            match progress {
                Progress::Done(result) => return result,
                Progress::Waiting => until(changed, report_at).await,
            }
        }
    }

    /// The group and `All` variants: every process the operation applies to, one result
    /// struct each. Refusals and immediate successes come first, in process order, then the
    /// waited-for processes in the order they finish: supervisord checks its callbacks at
    /// most every [`RESULT_WINDOW`] and appends what each check finds in process order, so
    /// processes that finish within one window of each other are reported in process
    /// order (a group of `sleep`s stopped together), and one that finishes clearly later
    /// (a longer `startsecs`, a slower stop) after the others.
    async fn many(
        &self,
        ids: Vec<usize>,
        operation: Operation,
        wait: bool,
    ) -> Result<Value, Fault> {
        let (mut results, mut pending) = self
            .with(move |s| {
                let mut results = Vec::new();
                let mut pending = Vec::new();
                for id in ids {
                    let view = s.view(id);
                    let running = matches!(
                        view.state,
                        State::Running | State::Starting | State::Backoff
                    );
                    if running == (operation == Operation::Start) {
                        continue;
                    }
                    let outcome = match operation {
                        Operation::Start => s.start_process(id),
                        Operation::Stop => s.stop_process(id),
                    };
                    match outcome {
                        Err(refusal) => {
                            let fault = Fault::from(refusal);
                            results.push(status(&view, fault.code(), fault.string().to_string()));
                        }
                        Ok(()) if wait => {
                            // Done at once (a start with startsecs=0): reported in process
                            // order with the refusals, as supervisord does.
                            let now = s.view(id);
                            let progress = match operation {
                                Operation::Start => start_progress(&now, &s.namespec(id)),
                                Operation::Stop => stop_progress(&now),
                            };
                            match progress {
                                Progress::Waiting => {
                                    // As for one process: the first check comes at once.
                                    if operation == Operation::Stop {
                                        s.stop_report(id);
                                    }
                                    pending.push(id)
                                }
                                Progress::Done(Ok(())) => {
                                    results.push(status(&now, faults::SUCCESS, "OK".into()))
                                }
                                Progress::Done(Err(fault)) => results.push(status(
                                    &now,
                                    fault.code(),
                                    fault.string().to_string(),
                                )),
                            }
                        }
                        Ok(()) => results.push(status(&view, faults::SUCCESS, "OK".into())),
                    }
                }
                (results, pending)
            })
            .await?;
        // The results found since the current window opened, and when it opened.
        let mut batch: Vec<(usize, Value)> = Vec::new();
        let mut window: Option<std::time::Instant> = None;
        let order = pending.clone();
        let flush = |batch: &mut Vec<(usize, Value)>, results: &mut Vec<Value>| {
            batch.sort_by_key(|(id, _)| order.iter().position(|o| o == id));
            results.extend(batch.drain(..).map(|(_, value)| value));
        };
        while !pending.is_empty() {
            let changed = self.handle.listen();
            let (done, still, report_at) = self
                .with(move |s| {
                    let mut done = Vec::new();
                    let mut still = Vec::new();
                    let mut report_at = None;
                    for id in pending {
                        let view = s.view(id);
                        let progress = match operation {
                            Operation::Start => start_progress(&view, &s.namespec(id)),
                            Operation::Stop => stop_progress(&view),
                        };
                        match progress {
                            Progress::Waiting => {
                                if operation == Operation::Stop {
                                    report_at = earliest(report_at, s.stop_report(id));
                                }
                                still.push(id)
                            }
                            Progress::Done(Ok(())) => {
                                done.push((id, status(&view, faults::SUCCESS, "OK".into())))
                            }
                            Progress::Done(Err(fault)) => done.push((
                                id,
                                status(&view, fault.code(), fault.string().to_string()),
                            )),
                        }
                    }
                    (done, still, report_at)
                })
                .await?;
            let now = std::time::Instant::now();
            if !done.is_empty() && window.is_none() {
                window = Some(now);
            }
            batch.extend(done);
            pending = still;
            if window.is_some_and(|opened| now >= opened + RESULT_WINDOW) {
                flush(&mut batch, &mut results);
                window = None;
            }
            if !pending.is_empty() {
                let closes = window.map(|opened| opened + RESULT_WINDOW);
                until(changed, earliest(report_at, closes)).await;
            }
        }
        flush(&mut batch, &mut results);
        Ok(Value::Array(results))
    }

    /// The path of a process's stdout or stderr log (`None` for `NONE`).
    async fn log_path(
        &self,
        target: String,
        stderr: bool,
    ) -> Result<Option<std::path::PathBuf>, Fault> {
        self.update(move |s| {
            let Some((_, Some(id))) = s.lookup(&target) else {
                return Err(fault(faults::BAD_NAME, target));
            };
            let view = s.view(id);
            Ok(if stderr {
                view.stderr_logfile
            } else {
                view.stdout_logfile
            })
        })
        .await
    }

    /// `system.multicall`: each call in order; a fault is a struct in the results.
    async fn multicall(&self, calls: &Value) -> Result<Value, Fault> {
        let Value::Array(calls) = calls else {
            return Err(bare_fault(faults::INCORRECT_PARAMETERS));
        };
        let mut results = Vec::new();
        for call in calls {
            let outcome = match call {
                Value::Struct(members) => match members.get("methodName") {
                    Some(Value::String(method)) if method == "system.multicall" => Err(fault(
                        faults::INCORRECT_PARAMETERS,
                        "Recursive system.multicall forbidden",
                    )),
                    Some(Value::String(method)) => {
                        let params = match members.get("params") {
                            Some(Value::Array(params)) => params.clone(),
                            _ => Vec::new(),
                        };
                        Box::pin(self.call(method, params)).await
                    }
                    _ => Err(fault(faults::INCORRECT_PARAMETERS, "No methodName")),
                },
                _ => Err(fault(faults::INCORRECT_PARAMETERS, "No methodName")),
            };
            results.push(match outcome {
                Ok(value) => value,
                Err(fault) => structure([
                    ("faultCode", Value::Integer(fault.code())),
                    ("faultString", string(fault.string())),
                ]),
            });
        }
        Ok(Value::Array(results))
    }
}

/// `readLog`/`readProcess*Log`: bare NO_FILE without a log, `NO_FILE: <path>` when its file
/// is gone, else supervisord's `readFile`.
fn read_log(path: Option<&std::path::Path>, offset: i64, length: i64) -> Result<Value, Fault> {
    let Some(path) = path else {
        return Err(bare_fault(faults::NO_FILE));
    };
    if !path.exists() {
        return Err(fault(faults::NO_FILE, path.display().to_string()));
    }
    read_file(path, offset, length).map(string)
}

/// supervisord's `readFile`: negative offset with length 0 is the tail; a non-negative
/// offset reads to the end (length 0) or `length` bytes.
fn read_file(path: &std::path::Path, offset: i64, length: i64) -> Result<String, Fault> {
    use std::io::{Read, Seek, SeekFrom};
    if (offset < 0 && length != 0) || length < 0 {
        return Err(bare_fault(faults::BAD_ARGUMENTS));
    }
    let read = || -> std::io::Result<Vec<u8>> {
        let mut file = std::fs::File::open(path)?;
        let size = file.seek(SeekFrom::End(0))?;
        let start = if offset < 0 {
            size.saturating_sub(offset.unsigned_abs())
        } else {
            offset.unsigned_abs()
        };
        file.seek(SeekFrom::Start(start))?;
        let mut data = Vec::new();
        if offset < 0 || length == 0 {
            file.read_to_end(&mut data)?;
        } else {
            file.take(length.unsigned_abs()).read_to_end(&mut data)?;
        }
        Ok(data)
    };
    match read() {
        Ok(data) => Ok(String::from_utf8_lossy(&data).into_owned()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Err(bare_fault(faults::NO_FILE))
        }
        Err(_) => Err(bare_fault(faults::FAILED)),
    }
}

/// supervisord's `tailFile`: `[data, new offset, overflow]`.
fn tail_file(path: &std::path::Path, offset: i64, length: i64) -> Value {
    use std::io::{Read, Seek, SeekFrom};
    let read = || -> std::io::Result<(Vec<u8>, i64, bool)> {
        let mut file = std::fs::File::open(path)?;
        let size = i64::try_from(file.seek(SeekFrom::End(0))?).unwrap_or(i64::MAX);
        let (mut offset, mut length) = (offset, length);
        let mut overflow = false;
        if size > offset.saturating_add(length) {
            overflow = true;
            offset = size - 1;
        }
        if offset.saturating_add(length) > size {
            if offset > size - 1 {
                length = 0;
            }
            offset = size - length;
        }
        offset = offset.max(0);
        length = length.max(0);
        let mut data = Vec::new();
        if length > 0 {
            file.seek(SeekFrom::Start(offset.unsigned_abs()))?;
            file.take(length.unsigned_abs()).read_to_end(&mut data)?;
        }
        Ok((data, size, overflow))
    };
    let (data, offset, overflow) = read().unwrap_or((Vec::new(), offset, false));
    Value::Array(vec![
        string(String::from_utf8_lossy(&data)),
        Value::Integer(i32::try_from(offset).unwrap_or(i32::MAX)),
        Value::Boolean(overflow),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, state: State) -> ProcessView {
        let at = |seconds| Some(UNIX_EPOCH + std::time::Duration::from_secs(seconds));
        ProcessView {
            name: name.to_string(),
            group: "g<&>".to_string(),
            laststart: at(1_700_000_000),
            laststop: at(1_700_000_100),
            state,
            spawnerr: Some("Exited too quickly & more".to_string()),
            exitstatus: Some(3),
            stdout_logfile: Some("/var/log/a<b>.log".into()),
            stderr_logfile: None,
            pid: Some(42),
        }
    }

    #[test]
    fn the_fast_get_all_process_info_writes_the_generic_bytes() {
        let views = || {
            [
                view("run", State::Running),
                view("fat", State::Fatal),
                view("exi", State::Exited),
                view("sto", State::Stopping),
            ]
        };
        let now = 1_700_000_200;
        let generic = response_xml(&Ok(Value::Array(
            views().iter().map(|v| process_info_at(v, now)).collect(),
        )))
        .expect("render");
        assert_eq!(write_all_process_info(views().into_iter(), now), generic);
        assert!(generic.contains("<string>g&lt;&amp;&gt;</string>"));
    }

    #[test]
    fn methods_are_sorted_unique_and_typed() {
        let names: Vec<&str> = METHODS.iter().map(|m| m.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        for method in METHODS {
            assert!(!method.signature.is_empty(), "{}", method.name);
            assert!(method.help.contains("@return"), "{}", method.name);
        }
    }

    #[test]
    fn responses_parse_back_to_their_values() {
        let value = structure([
            ("name", string("a<b>&c ü")),
            ("pid", Value::Integer(-7)),
            ("big", Value::Long(1 << 40)),
            ("ok", Value::Boolean(true)),
            ("list", Value::Array(vec![Value::Double(1.5), Value::Nil])),
            ("empty", Value::Array(Vec::new())),
        ]);
        let xml = response_xml(&Ok(value.clone())).unwrap();
        assert_eq!(dxr::MethodResponse::from_xml(&xml).unwrap().value, value);
        let fault = fault(faults::BAD_NAME, "x<y");
        let xml = response_xml(&Err(fault.clone())).unwrap();
        assert_eq!(dxr::FaultResponse::from_xml(&xml).unwrap().fault, fault);
    }

    #[test]
    fn timedelta_like_python() {
        assert_eq!(timedelta(62), "0:01:02");
        assert_eq!(timedelta(93_784), "1 day, 2:03:04");
        assert_eq!(timedelta(3 * 86_400 + 1), "3 days, 0:00:01");
        assert_eq!(timedelta(-5), "0:00:00");
    }

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(signal_number(&string("HUP")), Some(1));
        assert_eq!(signal_number(&string("sigterm")), Some(15));
        assert_eq!(signal_number(&string("9")), Some(9));
        assert_eq!(signal_number(&Value::Integer(10)), Some(10));
        assert_eq!(signal_number(&string("NOPE")), None);
        assert_eq!(signal_number(&Value::Integer(999)), None);
    }

    #[test]
    fn fault_texts() {
        assert_eq!(fault(faults::BAD_NAME, "x").string(), "BAD_NAME: x");
        assert_eq!(bare_fault(faults::NO_FILE).string(), "NO_FILE");
    }

    #[test]
    fn read_and_tail_like_supervisord() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(read_file(&path, -3, 0).unwrap(), "789");
        assert_eq!(read_file(&path, 2, 0).unwrap(), "23456789");
        assert_eq!(read_file(&path, 2, 3).unwrap(), "234");
        assert_eq!(
            read_file(&path, -3, 2).unwrap_err().code(),
            faults::BAD_ARGUMENTS
        );
        assert_eq!(
            read_file(&path, 0, -1).unwrap_err().code(),
            faults::BAD_ARGUMENTS
        );
        assert_eq!(
            read_file(&dir.path().join("missing"), 0, 0)
                .unwrap_err()
                .code(),
            faults::NO_FILE
        );
        let tail = |offset, length| match tail_file(&path, offset, length) {
            Value::Array(items) => items,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            tail(0, 4),
            vec![string("6789"), Value::Integer(10), Value::Boolean(true)]
        );
        // As in Python: a length past the end moves the offset back to size - length.
        assert_eq!(
            tail(8, 100),
            vec![
                string("0123456789"),
                Value::Integer(10),
                Value::Boolean(false)
            ]
        );
        assert_eq!(
            tail(8, 2),
            vec![string("89"), Value::Integer(10), Value::Boolean(false)]
        );
        assert_eq!(
            tail(10, 100),
            vec![string(""), Value::Integer(10), Value::Boolean(false)]
        );
    }
}
