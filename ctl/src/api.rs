//! supervisord's XML-RPC API as supervisorctl uses it: the fault codes and process states
//! it compares against, typed views of the structures it reads, and [`Supervisor`], the
//! `supervisor.*` proxy (one method per call supervisorctl makes).
//!
//! Values are read as Python reads them: `%s` formatting ([`py_str`]), integer comparison
//! across `int`/`bool` ([`py_int`]), truthiness ([`py_truthy`]). A response without a field
//! supervisorctl reads is the `KeyError` Python would raise.
//!
//! **Boundary:** every call blocks the calling thread (Ctrl-C interrupts it); the async
//! client is available for the one command that needs concurrency (`fg`).

use dxr::Value;

use super::Failure;
use super::client::Client;
use super::exception::{Exception, Site, py_repr};
use super::interrupt::Interrupt;

/// supervisord's fault codes (`supervisor.xmlrpc.Faults`).
pub(crate) mod faults {
    pub(crate) const UNKNOWN_METHOD: i32 = 1;
    pub(crate) const SHUTDOWN_STATE: i32 = 6;
    pub(crate) const BAD_NAME: i32 = 10;
    pub(crate) const BAD_SIGNAL: i32 = 11;
    pub(crate) const NO_FILE: i32 = 20;
    pub(crate) const NOT_EXECUTABLE: i32 = 21;
    pub(crate) const FAILED: i32 = 30;
    pub(crate) const ABNORMAL_TERMINATION: i32 = 40;
    pub(crate) const SPAWN_ERROR: i32 = 50;
    pub(crate) const ALREADY_STARTED: i32 = 60;
    pub(crate) const NOT_RUNNING: i32 = 70;
    pub(crate) const SUCCESS: i32 = 80;
    pub(crate) const ALREADY_ADDED: i32 = 90;
    pub(crate) const STILL_RUNNING: i32 = 91;
    pub(crate) const CANT_REREAD: i32 = 92;
}

/// The API version supervisorctl 4.3.0 expects from `getVersion`.
pub(crate) const API_VERSION: &str = "3.0";

/// `RUNNING`'s state code.
pub(crate) const RUNNING: i64 = 20;

/// `STOPPED_STATES`: STOPPED, EXITED, FATAL, UNKNOWN (`status` exits 3 if it shows one).
pub(crate) const STOPPED_STATES: [i64; 4] = [0, 100, 200, 1000];

/// `'%s' % value`.
pub(crate) fn py_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Integer(number) => number.to_string(),
        Value::Long(number) => number.to_string(),
        Value::Boolean(true) => "True".into(),
        Value::Boolean(false) => "False".into(),
        Value::Double(number) if number.is_finite() && number.fract() == 0.0 => {
            format!("{number:.1}")
        }
        Value::Double(number) => number.to_string(),
        Value::Nil => "None".into(),
        Value::Base64(bytes) => format!("b{}", py_repr(&String::from_utf8_lossy(bytes))),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(py_item_repr).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Struct(members) => {
            let parts: Vec<String> = members
                .iter()
                .map(|(key, value)| format!("{}: {}", py_repr(key), py_item_repr(value)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// `repr(value)` inside a container.
fn py_item_repr(value: &Value) -> String {
    match value {
        Value::String(text) => py_repr(text),
        other => py_str(other),
    }
}

/// The value as a Python integer compares (`True == 1`), if it is one.
pub(crate) fn py_int(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(number) => Some(i64::from(*number)),
        Value::Long(number) => Some(*number),
        Value::Boolean(flag) => Some(i64::from(*flag)),
        Value::Double(number) if number.fract() == 0.0 => Some(*number as i64),
        _ => None,
    }
}

/// `bool(value)`.
pub(crate) fn py_truthy(value: &Value) -> bool {
    match value {
        Value::String(text) => !text.is_empty(),
        Value::Integer(number) => *number != 0,
        Value::Long(number) => *number != 0,
        Value::Boolean(flag) => *flag,
        Value::Double(number) => *number != 0.0,
        Value::Nil => false,
        Value::Base64(bytes) => !bytes.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Struct(members) => !members.is_empty(),
        _ => true,
    }
}

/// `value[key]` on a struct; `KeyError` or `TypeError` as Python raises them.
fn field<'a>(value: &'a Value, key: &str) -> Result<&'a Value, Exception> {
    match value {
        Value::Struct(members) => members.get(key).ok_or_else(|| Exception::Other {
            class: "KeyError",
            message: py_repr(key),
            site: Site::RESPONSE_SHAPE,
        }),
        _ => Err(type_error("indices must be integers or slices, not str")),
    }
}

/// The items of an array.
fn items(value: &Value) -> Result<&[Value], Exception> {
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(type_error("object is not iterable")),
    }
}

fn type_error(message: &str) -> Exception {
    Exception::Other {
        class: "TypeError",
        message: message.into(),
        site: Site::RESPONSE_SHAPE,
    }
}

/// supervisor's `make_namespec`: `name` when the process is alone in its group of the same
/// name, `group:name` otherwise.
pub(crate) fn make_namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// supervisor's `split_namespec`: `(group, Some(process))`, or `(group, None)` for `group:`
/// and `group:*`.
pub(crate) fn split_namespec(namespec: &str) -> (&str, Option<&str>) {
    match namespec.split_once(':') {
        Some((group, "" | "*")) => (group, None),
        Some((group, process)) => (group, Some(process)),
        None => (namespec, Some(namespec)),
    }
}

/// One entry of `getAllProcessInfo` / a `getProcessInfo` result.
#[derive(Debug, Clone)]
pub(crate) struct ProcessInfo {
    pub(crate) group: String,
    pub(crate) name: String,
    pub(crate) state: Value,
    pub(crate) statename: String,
    pub(crate) description: String,
    pub(crate) pid: Value,
}

impl ProcessInfo {
    fn read(value: &Value) -> Result<ProcessInfo, Exception> {
        Ok(ProcessInfo {
            group: py_str(field(value, "group")?),
            name: py_str(field(value, "name")?),
            state: field(value, "state")?.clone(),
            statename: py_str(field(value, "statename")?),
            description: py_str(field(value, "description")?),
            pid: field(value, "pid")?.clone(),
        })
    }

    /// `group:name` or `name`.
    pub(crate) fn namespec(&self) -> String {
        make_namespec(&self.group, &self.name)
    }
}

/// One entry of a group or `all` result (`startProcessGroup`, `stopAllProcesses`, ...), or
/// supervisorctl's dict made from a fault for a single process.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) group: String,
    pub(crate) name: String,
    pub(crate) status: i32,
    pub(crate) description: String,
}

impl Outcome {
    fn read(value: &Value) -> Result<Outcome, Exception> {
        let status = field(value, "status")?;
        Ok(Outcome {
            group: py_str(field(value, "group")?),
            name: py_str(field(value, "name")?),
            status: py_int(status)
                .and_then(|code| i32::try_from(code).ok())
                .unwrap_or(i32::MIN),
            description: py_str(field(value, "description")?),
        })
    }

    /// The dict supervisorctl builds from a fault on `group:process`.
    pub(crate) fn from_fault(group: &str, process: &str, code: i32, string: &str) -> Outcome {
        Outcome {
            group: group.to_string(),
            name: process.to_string(),
            status: code,
            description: string.to_string(),
        }
    }

    /// `group:name` or `name`.
    pub(crate) fn namespec(&self) -> String {
        make_namespec(&self.group, &self.name)
    }
}

/// One entry of `getAllConfigInfo`, the fields `avail` prints.
#[derive(Debug, Clone)]
pub(crate) struct ConfigInfo {
    pub(crate) group: String,
    pub(crate) name: String,
    pub(crate) inuse: bool,
    pub(crate) autostart: bool,
    pub(crate) group_prio: String,
    pub(crate) process_prio: String,
}

impl ConfigInfo {
    fn read(value: &Value) -> Result<ConfigInfo, Exception> {
        Ok(ConfigInfo {
            group: py_str(field(value, "group")?),
            name: py_str(field(value, "name")?),
            inuse: py_truthy(field(value, "inuse")?),
            autostart: py_truthy(field(value, "autostart")?),
            group_prio: py_str(field(value, "group_prio")?),
            process_prio: py_str(field(value, "process_prio")?),
        })
    }
}

/// `reloadConfig()[0]`: group names added, changed and removed.
/// `svc.updatePlan`'s answer: groups to add and remove, and each group to restart with
/// what changed in it.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) added: Vec<String>,
    pub(crate) changed: Vec<(String, Vec<String>)>,
    pub(crate) removed: Vec<String>,
}

impl Plan {
    fn read(value: &Value) -> Plan {
        let Value::Struct(members) = value else {
            return Plan::default();
        };
        let names = |value: Option<&Value>| -> Vec<String> {
            match value {
                Some(Value::Array(items)) => items.iter().map(py_str).collect(),
                _ => Vec::new(),
            }
        };
        let changed = match members.get("changed") {
            Some(Value::Array(groups)) => groups
                .iter()
                .filter_map(|group| match group {
                    Value::Struct(group) => Some((
                        group.get("group").map(py_str).unwrap_or_default(),
                        names(group.get("changes")),
                    )),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Plan {
            added: names(members.get("added")),
            changed,
            removed: names(members.get("removed")),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Changes {
    pub(crate) added: Vec<String>,
    pub(crate) changed: Vec<String>,
    pub(crate) removed: Vec<String>,
}

impl Changes {
    fn read(value: &Value) -> Result<Changes, Exception> {
        let outer = items(value)?;
        let first = outer.first().ok_or_else(|| Exception::Other {
            class: "IndexError",
            message: "list index out of range".into(),
            site: Site::RESPONSE_SHAPE,
        })?;
        let lists = items(first)?;
        let names = |index: usize| -> Result<Vec<String>, Exception> {
            match lists.get(index) {
                Some(list) => Ok(items(list)?.iter().map(py_str).collect()),
                None => Err(Exception::Other {
                    class: "ValueError",
                    message: format!(
                        "not enough values to unpack (expected 3, got {})",
                        lists.len()
                    ),
                    site: Site::RESPONSE_SHAPE,
                }),
            }
        };
        Ok(Changes {
            added: names(0)?,
            changed: names(1)?,
            removed: names(2)?,
        })
    }
}

/// A Python integer for an XML-RPC `int` parameter: `OverflowError` beyond 32 bits, as
/// `xmlrpc.client` refuses to marshal it.
fn int_param(number: i128) -> Result<Value, Exception> {
    i32::try_from(number)
        .map(Value::Integer)
        .map_err(|_| Exception::Other {
            class: "OverflowError",
            message: "int exceeds XML-RPC limits".into(),
            site: Site::INT_LIMITS,
        })
}

fn string(text: &str) -> Value {
    Value::String(text.to_string())
}

/// The `supervisor` namespace of a server (supervisorctl's `get_supervisor()`).
#[derive(Debug, Clone)]
pub(crate) struct Supervisor {
    client: Client,
    interrupt: Interrupt,
}

impl Supervisor {
    pub(crate) fn new(client: Client, interrupt: Interrupt) -> Supervisor {
        Supervisor { client, interrupt }
    }

    /// The transport, for concurrent use (`fg`).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// `supervisor.<method>(params...)`, waiting for the answer (or Ctrl-C).
    fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, Failure> {
        let method = format!("supervisor.{method}");
        Ok(self
            .interrupt
            .block_on(self.client.call(&method, params))??)
    }

    fn outcomes(&self, method: &str, params: Vec<Value>) -> Result<Vec<Outcome>, Failure> {
        let value = self.call(method, params)?;
        Ok(items(&value)?
            .iter()
            .map(Outcome::read)
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn get_version(&self) -> Result<Value, Failure> {
        self.call("getVersion", vec![])
    }

    pub(crate) fn get_supervisor_version(&self) -> Result<Value, Failure> {
        self.call("getSupervisorVersion", vec![])
    }

    pub(crate) fn get_pid(&self) -> Result<Value, Failure> {
        self.call("getPID", vec![])
    }

    pub(crate) fn get_all_process_info(&self) -> Result<Vec<ProcessInfo>, Failure> {
        let value = self.call("getAllProcessInfo", vec![])?;
        Ok(items(&value)?
            .iter()
            .map(ProcessInfo::read)
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn get_process_info(&self, name: &str) -> Result<ProcessInfo, Failure> {
        let value = self.call("getProcessInfo", vec![string(name)])?;
        Ok(ProcessInfo::read(&value)?)
    }

    pub(crate) fn start_process(&self, name: &str) -> Result<Value, Failure> {
        self.call("startProcess", vec![string(name)])
    }

    pub(crate) fn start_process_group(&self, name: &str) -> Result<Vec<Outcome>, Failure> {
        self.outcomes("startProcessGroup", vec![string(name)])
    }

    pub(crate) fn start_all_processes(&self) -> Result<Vec<Outcome>, Failure> {
        self.outcomes("startAllProcesses", vec![])
    }

    pub(crate) fn stop_process(&self, name: &str) -> Result<Value, Failure> {
        self.call("stopProcess", vec![string(name)])
    }

    pub(crate) fn stop_process_group(&self, name: &str) -> Result<Vec<Outcome>, Failure> {
        self.outcomes("stopProcessGroup", vec![string(name)])
    }

    pub(crate) fn stop_all_processes(&self) -> Result<Vec<Outcome>, Failure> {
        self.outcomes("stopAllProcesses", vec![])
    }

    pub(crate) fn signal_process(&self, name: &str, signal: &str) -> Result<Value, Failure> {
        self.call("signalProcess", vec![string(name), string(signal)])
    }

    pub(crate) fn signal_process_group(
        &self,
        name: &str,
        signal: &str,
    ) -> Result<Vec<Outcome>, Failure> {
        self.outcomes("signalProcessGroup", vec![string(name), string(signal)])
    }

    pub(crate) fn signal_all_processes(&self, signal: &str) -> Result<Vec<Outcome>, Failure> {
        self.outcomes("signalAllProcesses", vec![string(signal)])
    }

    /// `readProcessStdoutLog` or `readProcessStderrLog`.
    pub(crate) fn read_process_log(
        &self,
        channel: &str,
        name: &str,
        offset: i128,
        length: i128,
    ) -> Result<Value, Failure> {
        let method = if channel == "stdout" {
            "readProcessStdoutLog"
        } else {
            "readProcessStderrLog"
        };
        let params = vec![string(name), int_param(offset)?, int_param(length)?];
        self.call(method, params)
    }

    pub(crate) fn read_log(&self, offset: i128, length: i128) -> Result<Value, Failure> {
        let params = vec![int_param(offset)?, int_param(length)?];
        self.call("readLog", params)
    }

    pub(crate) fn clear_process_logs(&self, name: &str) -> Result<Value, Failure> {
        self.call("clearProcessLogs", vec![string(name)])
    }

    pub(crate) fn clear_all_process_logs(&self) -> Result<Vec<Outcome>, Failure> {
        self.outcomes("clearAllProcessLogs", vec![])
    }

    pub(crate) fn get_all_config_info(&self) -> Result<Vec<ConfigInfo>, Failure> {
        let value = self.call("getAllConfigInfo", vec![])?;
        Ok(items(&value)?
            .iter()
            .map(ConfigInfo::read)
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn reload_config(&self) -> Result<Changes, Failure> {
        let value = self.call("reloadConfig", vec![])?;
        Ok(Changes::read(&value)?)
    }

    /// Beyond supervisord: `svc.updatePlan()`, what `update` would do (svc run only).
    pub(crate) fn update_plan(&self) -> Result<Plan, Failure> {
        let value = self
            .interrupt
            .block_on(self.client.call("svc.updatePlan", vec![]))??;
        Ok(Plan::read(&value))
    }

    pub(crate) fn add_process_group(&self, name: &str) -> Result<Value, Failure> {
        self.call("addProcessGroup", vec![string(name)])
    }

    pub(crate) fn remove_process_group(&self, name: &str) -> Result<Value, Failure> {
        self.call("removeProcessGroup", vec![string(name)])
    }

    pub(crate) fn shutdown(&self) -> Result<Value, Failure> {
        self.call("shutdown", vec![])
    }

    pub(crate) fn restart(&self) -> Result<Value, Failure> {
        self.call("restart", vec![])
    }
}

/// `sendProcessStdin(name, chars)`, for `fg`'s concurrent use.
pub(crate) async fn send_process_stdin(
    client: &Client,
    name: &str,
    chars: &str,
) -> Result<Value, Exception> {
    client
        .call(
            "supervisor.sendProcessStdin",
            vec![string(name), string(chars)],
        )
        .await
}

/// `getProcessInfo(name)`, for `fg`'s concurrent use.
pub(crate) async fn process_info(client: &Client, name: &str) -> Result<ProcessInfo, Exception> {
    let value = client
        .call("supervisor.getProcessInfo", vec![string(name)])
        .await?;
    ProcessInfo::read(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespecs_round_trip_as_supervisor_splits_them() {
        assert_eq!(split_namespec("web"), ("web", Some("web")));
        assert_eq!(split_namespec("pool:*"), ("pool", None));
        assert_eq!(split_namespec("pool:"), ("pool", None));
        assert_eq!(split_namespec("pool:a:b"), ("pool", Some("a:b")));
        assert_eq!(make_namespec("web", "web"), "web");
        assert_eq!(make_namespec("pool", "pool_0"), "pool:pool_0");
    }

    #[test]
    fn values_format_as_python_percent_s() {
        assert_eq!(py_str(&Value::Integer(999)), "999");
        assert_eq!(py_str(&Value::Boolean(true)), "True");
        assert_eq!(py_str(&Value::Double(1.0)), "1.0");
        assert_eq!(py_int(&Value::Boolean(false)), Some(0));
        assert!(!py_truthy(&Value::String(String::new())));
    }

    #[test]
    fn parameters_beyond_32_bits_are_refused_like_xmlrpc_client() {
        assert!(int_param(-1600).is_ok());
        let error = int_param(1 << 40).unwrap_err();
        assert_eq!(error.class(), "OverflowError");
    }
}
