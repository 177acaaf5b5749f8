//! The Graph and its parts.
//!
//! Field names follow supervisord's configuration keys, so supervisord's documentation
//! describes them. Where supervisord keeps a sentinel (AUTO logs, "no umask"), the Graph uses
//! an enum or an `Option`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::span::Origin;

/// A compiled configuration: everything `svc run` needs to supervise processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Graph {
    /// The daemon's own settings (`[supervisord]`).
    pub supervisord: Supervisord,
    /// HTTP servers on unix sockets (`[unix_http_server]`), in file order.
    pub unix_http_servers: Vec<UnixHttpServer>,
    /// HTTP servers on TCP (`[inet_http_server]`), in file order.
    pub inet_http_servers: Vec<InetHttpServer>,
    /// Client settings (`[supervisorctl]`), if the section exists.
    pub supervisorctl: Option<Supervisorctl>,
    /// `[rpcinterface:x]` sections, in file order.
    pub rpcinterfaces: Vec<Plugin>,
    /// `[ctlplugin:x]` sections, in file order.
    pub ctlplugins: Vec<Plugin>,
    /// Process groups sorted by `(priority, name)`: the start order. Shutdown is the reverse.
    pub groups: Vec<Group>,
}

/// `[supervisord]`: the daemon's settings, with supervisord's defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Supervisord {
    /// Main log destination (`logfile`), an absolute path or syslog.
    pub logfile: MainLog,
    /// Rotate the main log after this many bytes; 0 disables rotation.
    pub logfile_maxbytes: i64,
    /// Rotated main logs kept.
    pub logfile_backups: i64,
    /// Main log level.
    pub loglevel: LogLevel,
    /// Absolute path of the pid file.
    pub pidfile: String,
    /// umask of the daemon.
    pub umask: u32,
    /// Stay in the foreground.
    pub nodaemon: bool,
    /// With `nodaemon`, do not copy the main log to stdout.
    pub silent: bool,
    /// Minimum RLIMIT_NOFILE.
    pub minfds: i64,
    /// Minimum RLIMIT_NPROC.
    pub minprocs: i64,
    /// Keep old AUTO child logs at start.
    pub nocleanup: bool,
    /// Directory for AUTO child logs.
    pub childlogdir: String,
    /// Drop privileges to this user at start (name or uid as written).
    pub user: Option<String>,
    /// chdir here when daemonizing.
    pub directory: Option<String>,
    /// Strip ANSI escapes from child logs.
    pub strip_ansi: bool,
    /// Environment added to every child (and to `ENV_*` expansions).
    pub environment: IndexMap<String, String>,
    /// Identifier used by the RPC API, AUTO log names and event headers.
    pub identifier: String,
}

/// Where the main log goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MainLog {
    /// An absolute file path (`/dev/stdout` included).
    File(String),
    /// `logfile=syslog`.
    Syslog,
}

/// supervisord's log levels, most to least severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// `critical` (CRIT, 50)
    Critical,
    /// `error` (ERRO, 40)
    Error,
    /// `warn` (WARN, 30)
    Warn,
    /// `info` (INFO, 20)
    Info,
    /// `debug` (DEBG, 10)
    Debug,
    /// `trace` (TRAC, 5)
    Trace,
    /// `blather` (BLAT, 3)
    Blather,
}

/// `[unix_http_server]` (or `[unix_http_server:name]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnixHttpServer {
    /// The part after `:` in the section name, if any.
    pub name: Option<String>,
    /// Absolute socket path.
    pub file: String,
    /// Socket permissions.
    pub chmod: u32,
    /// Socket owner, as written (`user` or `user:group`).
    pub chown: Option<OwnerSpec>,
    /// Basic-auth credentials.
    pub auth: Option<Credentials>,
    /// Where it was defined.
    #[serde(skip)]
    #[schemars(skip)]
    pub origin: Origin,
}

/// `[inet_http_server]` (or `[inet_http_server:name]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InetHttpServer {
    /// The part after `:` in the section name, if any.
    pub name: Option<String>,
    /// Host to bind, lower-cased; empty means every interface.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Basic-auth credentials.
    pub auth: Option<Credentials>,
    /// Where it was defined.
    #[serde(skip)]
    #[schemars(skip)]
    pub origin: Origin,
}

/// HTTP basic-auth credentials; `password` may be `{SHA}` + hex SHA-1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password, plain or `{SHA}<hex>`.
    pub password: String,
}

/// `user` or `user:group`, as written (resolved on the host at run time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OwnerSpec {
    /// User name or uid.
    pub user: String,
    /// Group name or gid.
    pub group: Option<String>,
}

/// `[supervisorctl]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Supervisorctl {
    /// URL of the daemon (`unix://` paths normalized).
    pub serverurl: String,
    /// Basic-auth user.
    pub username: Option<String>,
    /// Basic-auth password.
    pub password: Option<String>,
    /// Shell prompt (shown as `<prompt>> `).
    pub prompt: String,
    /// Readline history file.
    pub history_file: Option<String>,
}

/// `[rpcinterface:x]` or `[ctlplugin:x]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plugin {
    /// The part after `:`.
    pub name: String,
    /// `module:callable` factory.
    pub factory: String,
    /// Every other key, passed to the factory.
    pub extras: IndexMap<String, String>,
}

/// What kind of section made a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKind {
    /// A homogeneous group of one `[program:x]`.
    Program,
    /// A heterogeneous `[group:x]` of programs.
    Group,
    /// A `[fcgi-program:x]`.
    FcgiProgram,
    /// An `[eventlistener:x]` pool.
    Eventlistener,
}

/// A process group: the unit of start, stop and reload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// The section type that made it.
    pub kind: GroupKind,
    /// Group priority (start ascending, stop descending).
    pub priority: i64,
    /// Member processes in supervisord's order.
    pub processes: Vec<Process>,
    /// Event listener pool settings (`kind = eventlistener` only).
    pub pool: Option<Pool>,
    /// The shared FastCGI socket (`kind = fcgi-program` only).
    pub fcgi_socket: Option<FcgiSocket>,
    /// Where it was defined.
    #[serde(skip)]
    #[schemars(skip)]
    pub origin: Origin,
}

/// One process, fully expanded (one per `numprocs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Process {
    /// Process name (expanded `process_name`).
    pub name: String,
    /// The `[program:x]` / `[fcgi-program:x]` / `[eventlistener:x]` name it came from.
    pub program: String,
    /// `%(process_num)d` of this process.
    pub process_num: i64,
    /// `numprocs` of its program.
    pub numprocs: i64,
    /// Command line, split with POSIX shell rules at spawn time.
    pub command: String,
    /// chdir before exec.
    pub directory: Option<String>,
    /// umask of the child; `None` inherits the daemon's.
    pub umask: Option<u32>,
    /// Process priority.
    pub priority: i64,
    /// Start with the daemon.
    pub autostart: bool,
    /// Restart policy after an exit from RUNNING.
    pub autorestart: AutoRestart,
    /// Seconds a process must stay up to count as started.
    pub startsecs: i64,
    /// Failed starts allowed before FATAL.
    pub startretries: i64,
    /// Run as this user (name or uid, as written).
    pub user: Option<String>,
    /// Signal number sent to stop it.
    pub stopsignal: i32,
    /// Seconds to wait after `stopsignal` before SIGKILL.
    pub stopwaitsecs: i64,
    /// Send `stopsignal` to the whole process group.
    pub stopasgroup: bool,
    /// Send SIGKILL to the whole process group.
    pub killasgroup: bool,
    /// Exit codes that count as expected.
    pub exitcodes: Vec<u8>,
    /// Send stderr into the stdout log.
    pub redirect_stderr: bool,
    /// stdout capture settings.
    pub stdout: Stream,
    /// stderr capture settings.
    pub stderr: Stream,
    /// Child environment: `[supervisord] environment` overlaid with the program's.
    pub environment: IndexMap<String, String>,
    /// Value of `SUPERVISOR_SERVER_URL`; `None` means AUTO.
    pub serverurl: Option<String>,
    /// Beyond supervisord (`shutdown_on`, `shutdown_exitcode`): shut svc down when this
    /// process fails. Absent unless set, so the Graph of a supervisord configuration is
    /// unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<ShutdownTrigger>,
    /// Where it was defined.
    #[serde(skip)]
    #[schemars(skip)]
    pub origin: Origin,
}

/// Beyond supervisord: when a process's failure shuts the whole daemon down (what container
/// users otherwise need an event listener script for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShutdownTrigger {
    /// Which failures trigger it (`shutdown_on`).
    pub on: ShutdownOn,
    /// svc's exit code after the orderly shutdown (`shutdown_exitcode`, default 1).
    pub exitcode: u8,
}

/// The failures that shut svc down (`shutdown_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShutdownOn {
    /// The process entered FATAL: it could not be started `startretries` times in a row.
    Fatal,
    /// FATAL, or an exit from RUNNING with a code not in `exitcodes` (EXITED, not expected).
    Unexpected,
}

/// Restart policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AutoRestart {
    /// Never restart.
    False,
    /// Restart when the exit code is not in `exitcodes`.
    Unexpected,
    /// Always restart.
    True,
}

/// Settings of one output stream (stdout or stderr) of a process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stream {
    /// Log file.
    pub logfile: LogFile,
    /// Rotate after this many bytes; 0 disables rotation.
    pub logfile_maxbytes: i64,
    /// Rotated logs kept.
    pub logfile_backups: i64,
    /// Capture-mode buffer size; 0 disables capture mode.
    pub capture_maxbytes: i64,
    /// Emit PROCESS_LOG events.
    pub events_enabled: bool,
    /// Copy output to syslog.
    pub syslog: bool,
}

/// A child log destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogFile {
    /// A file created in `childlogdir` with a generated name.
    Auto,
    /// No file.
    None,
    /// This path (`~` expanded, not normalized).
    File(String),
}

/// Event listener pool settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Pool {
    /// Event types subscribed to, upper-case, sorted.
    pub events: Vec<String>,
    /// Events buffered per pool before the oldest is dropped.
    pub buffer_size: i64,
    /// `module:callable` that interprets listener results.
    pub result_handler: String,
}

/// The socket of a `[fcgi-program:x]`, shared by its processes as fd 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FcgiSocket {
    /// `unix:///abs/path`.
    Unix {
        /// Absolute socket path.
        path: String,
        /// Owner (`socket_owner`); `None` means the process user if it differs.
        owner: Option<OwnerSpec>,
        /// Permissions (`socket_mode`).
        mode: u32,
        /// listen() backlog; `None` is SOMAXCONN.
        backlog: Option<i64>,
    },
    /// `tcp://host:port`.
    Tcp {
        /// Host, lower-cased.
        host: String,
        /// Port.
        port: u16,
        /// listen() backlog; `None` is SOMAXCONN.
        backlog: Option<i64>,
    },
}
