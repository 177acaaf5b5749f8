//! svc's TOML configuration format, as typed data: the source of its JSON Schema
//! (`svc schema`, `schema/svc.schema.json`).
//!
//! The format is supervisord.conf written in TOML, designed to be read by people: every key
//! keeps supervisord's name and meaning (so supervisord's reference documentation applies),
//! `numprocs`/`process_name` templates stay templates, defaults are left out. A `.toml`
//! file is read by the compiler (`svc_compiler::toml`), which checks the keys and types
//! listed here and hands the values to the INI lowering; these types describe and document
//! the format, they are not what the compiler reads through.
//!
//! - `[supervisord]`, `[unix_http_server]`, `[inet_http_server]`, `[supervisorctl]`: as in
//!   INI; `[unix_http_servers.NAME]`, `[inet_http_servers.NAME]` are INI's named servers
//!   (`[inet_http_server:NAME]`).
//! - `[programs.NAME]`, `[groups.NAME]`, `[eventlisteners.NAME]`, `[fcgi_programs.NAME]`,
//!   `[rpcinterfaces.NAME]`, `[ctlplugins.NAME]`: INI's `[program:NAME]` and so on.
//! - `[include] files = [...]`: glob patterns relative to the including file; included
//!   files may include others.
//! - `[defaults]`: INI's `[DEFAULT]`, keys every section inherits.
//!
//! Values are templates, as in INI: `%(program_name)s`, `%(process_num)02d`,
//! `%(ENV_HOME)s`, `%(here)s` are expanded by svc with supervisord's rules, and `%%` is a
//! literal `%`. A key with a natural TOML type (an integer, a boolean, an array, a table)
//! also accepts a string, read exactly as the INI text would be (`numprocs =
//! "%(ENV_WORKERS)s"`, `stdout_logfile_maxbytes = "50MB"`).
//!
//! Invariant: the tables and keys here are the ones `svc_compiler::toml::keys` accepts (a
//! test compares them), and every field is documented with its type, default, an example
//! and what supervisord does with it.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An integer, or a string read as INI text (`"%(ENV_N)s"`, `"50MB"`, `"TERM"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum IntegerOrText {
    /// A TOML integer.
    Integer(i64),
    /// INI text.
    Text(String),
}

/// A boolean, or a string read as INI text (`"yes"`, `"off"`, `"unexpected"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum BooleanOrText {
    /// A TOML boolean.
    Boolean(bool),
    /// INI text.
    Text(String),
}

/// An array of names, or a string in INI's comma-separated form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum NamesOrText {
    /// One name per item (no item may contain `,`).
    Names(Vec<String>),
    /// INI text: names separated by `,`.
    Text(String),
}

/// An array of exit codes, or a string in INI's comma-separated form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum IntegersOrText {
    /// One exit code per item.
    Integers(Vec<IntegerOrText>),
    /// INI text: codes separated by `,`.
    Text(String),
}

/// A string, an integer or a boolean, passed on as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    /// A string.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Boolean(bool),
}

/// Environment variables: a table of `NAME = "value"`, or a string in supervisord's
/// `KEY="value",KEY2=value2` form (read by supervisord's own parser, quirks included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvironmentOrText {
    /// One variable per key. A value is a template (`%(ENV_PATH)s`); it cannot start or end
    /// with a quote, nor hold both `"` and `'` (supervisord's parser cannot hold them).
    Table(IndexMap<String, Scalar>),
    /// INI text.
    Text(String),
}

/// A whole svc configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "svc configuration",
    description = "svc's TOML configuration format: supervisord.conf in TOML, with supervisord's key names and meaning. See svc's README."
)]
pub struct Config {
    /// The daemon's settings (INI `[supervisord]`). Required: a configuration without it is
    /// refused, as supervisord refuses it (an included file need not have it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisord: Option<SupervisordTable>,
    /// The XML-RPC server on a unix socket (INI `[unix_http_server]`), which supervisorctl
    /// talks to. Absent: no unix socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unix_http_server: Option<UnixHttpServerTable>,
    /// The XML-RPC server on TCP (INI `[inet_http_server]`). Absent: no TCP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inet_http_server: Option<InetHttpServerTable>,
    /// More XML-RPC servers on unix sockets, by name (INI `[unix_http_server:NAME]`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub unix_http_servers: IndexMap<String, UnixHttpServerTable>,
    /// More XML-RPC servers on TCP, by name (INI `[inet_http_server:NAME]`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub inet_http_servers: IndexMap<String, InetHttpServerTable>,
    /// How `svc ctl` / supervisorctl reach the daemon (INI `[supervisorctl]`); the daemon
    /// does not read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisorctl: Option<SupervisorctlTable>,
    /// Programs by name (INI `[program:NAME]`). Each forms a group of its own name unless a
    /// `[groups.X]` lists it.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub programs: IndexMap<String, ProgramTable>,
    /// Groups by name (INI `[group:NAME]`): programs started and stopped together.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub groups: IndexMap<String, GroupTable>,
    /// Event listener pools by name (INI `[eventlistener:NAME]`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub eventlisteners: IndexMap<String, EventListenerTable>,
    /// FastCGI programs by name (INI `[fcgi-program:NAME]`): processes sharing a socket the
    /// daemon opens.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub fcgi_programs: IndexMap<String, FcgiProgramTable>,
    /// XML-RPC interfaces by name (INI `[rpcinterface:NAME]`). `supervisor` is supervisord's
    /// own API, which supervisorctl needs.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub rpcinterfaces: IndexMap<String, PluginTable<RpcInterfaceFactory>>,
    /// supervisorctl plugins by name (INI `[ctlplugin:NAME]`); the daemon does not read them.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub ctlplugins: IndexMap<String, PluginTable<CtlFactory>>,
    /// More files to read (INI `[include]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<IncludeTable>,
    /// Keys every section inherits unless it sets them itself (INI `[DEFAULT]`). Any key of
    /// another table may appear here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<IndexMap<String, DefaultValue>>,
}

/// A value in `[defaults]`: whatever the key takes in the tables that read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DefaultValue {
    /// A string, an integer or a boolean.
    Scalar(Scalar),
    /// A list (`programs`, `events`, `exitcodes`).
    List(Vec<Scalar>),
    /// A table (`environment`).
    Table(IndexMap<String, Scalar>),
}

/// `[supervisord]`: the daemon itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisordTable {
    /// The daemon's activity log. A path (relative to the working directory), `/dev/stdout`,
    /// or `syslog`. Templates: `%(here)s`, `%(ENV_X)s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "$CWD/supervisord.log"), example = &"/var/log/supervisord.log")]
    pub logfile: Option<String>,
    /// Rotate the activity log when it reaches this size (bytes, or `"50MB"`, `"1GB"`); 0
    /// never rotates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "50MB"), example = &"10MB")]
    pub logfile_maxbytes: Option<IntegerOrText>,
    /// How many rotated activity logs to keep; 0 keeps none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 10), example = 5)]
    pub logfile_backups: Option<IntegerOrText>,
    /// The activity log's level: `critical`, `error`, `warn`, `info`, `debug`, `trace` or
    /// `blather`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "info"), example = &"debug")]
    pub loglevel: Option<String>,
    /// Where the daemon writes its pid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "$CWD/supervisord.pid"), example = &"/run/supervisord.pid")]
    pub pidfile: Option<String>,
    /// The daemon's umask, in octal, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "022"), example = &"002")]
    pub umask: Option<String>,
    /// Stay in the foreground instead of daemonizing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false), example = true)]
    pub nodaemon: Option<BooleanOrText>,
    /// With `nodaemon`, do not copy the activity log to stdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false), example = true)]
    pub silent: Option<BooleanOrText>,
    /// The minimum number of file descriptors; the daemon raises its soft limit to it, or
    /// refuses to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 1024), example = 4096)]
    pub minfds: Option<IntegerOrText>,
    /// The minimum number of processes the user may run; raised like `minfds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 200), example = 400)]
    pub minprocs: Option<IntegerOrText>,
    /// Keep old `AUTO` child logs at startup instead of deleting them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false), example = true)]
    pub nocleanup: Option<BooleanOrText>,
    /// The directory of `AUTO` child logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "the system's temporary directory"), example = &"/var/log/supervisor")]
    pub childlogdir: Option<String>,
    /// Switch to this user (name or uid) at startup; the daemon must start as root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"supervisor")]
    pub user: Option<String>,
    /// When daemonizing, change to this directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"/srv")]
    pub directory: Option<String>,
    /// Strip ANSI escape sequences from child logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false), example = true)]
    pub strip_ansi: Option<BooleanOrText>,
    /// Variables added to the daemon's environment, inherited by every child and usable
    /// as `%(ENV_X)s` in later sections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = {}), example = serde_json::json!({"TZ": "UTC"}))]
    pub environment: Option<EnvironmentOrText>,
    /// The daemon's identifier in the XML-RPC API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "supervisor"), example = &"web01")]
    pub identifier: Option<String>,
    /// supervisord's profiler options; svc reads and ignores it, as supervisord does without
    /// its profiler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"cumulative")]
    pub profile_options: Option<String>,
}

macro_rules! program_table {
    (
        $(#[doc = $doc:literal])*
        $name:ident {
            $(
                $(#[doc = $field_doc:literal])*
                #[schemars($($attribute:tt)*)]
                $field:ident: $type:ty,
            )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The command to run: split like a shell would (Python's `shlex`), the program
            /// looked up on `PATH`. Required. Templates: `%(program_name)s`,
            /// `%(process_num)d`, `%(group_name)s`, `%(host_node_name)s`, `%(numprocs)d`,
            /// `%(here)s`, `%(ENV_X)s`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(example = &"/usr/bin/web --port 80%(process_num)d")]
            pub command: Option<String>,
            /// The name of each process; must contain `%(process_num)` when `numprocs` > 1.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = "%(program_name)s"), example = &"%(program_name)s_%(process_num)02d")]
            pub process_name: Option<String>,
            /// How many processes to run from this program.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 1), example = 4)]
            pub numprocs: Option<IntegerOrText>,
            /// The first `%(process_num)`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 0), example = 1)]
            pub numprocs_start: Option<IntegerOrText>,
            /// Start order (low first) and reverse stop order.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 999), example = 100)]
            pub priority: Option<IntegerOrText>,
            /// Start when the daemon starts.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = true), example = false)]
            pub autostart: Option<BooleanOrText>,
            /// Restart after an exit: `true`, `false`, or `"unexpected"` (an exit code not in
            /// `exitcodes`).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = "unexpected"), example = true)]
            pub autorestart: Option<BooleanOrText>,
            /// Seconds a process must stay up to count as started (RUNNING).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 1), example = 10)]
            pub startsecs: Option<IntegerOrText>,
            /// Failed starts in a row before giving up (FATAL); the wait grows 1 s, 2 s, ...
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 3), example = 10)]
            pub startretries: Option<IntegerOrText>,
            /// The exit codes that are expected (for `autorestart = "unexpected"`).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = [0]), example = serde_json::json!([0, 2]))]
            pub exitcodes: Option<IntegersOrText>,
            /// The signal that stops a process: a name (`"TERM"`, `"INT"`, `"HUP"`, `"QUIT"`,
            /// `"KILL"`, `"USR1"`, `"USR2"`) or a number.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = "TERM"), example = &"INT")]
            pub stopsignal: Option<IntegerOrText>,
            /// Seconds to wait after `stopsignal` before SIGKILL.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 10), example = 30)]
            pub stopwaitsecs: Option<IntegerOrText>,
            /// Send `stopsignal` to the whole process group; implies `killasgroup`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = false), example = true)]
            pub stopasgroup: Option<BooleanOrText>,
            /// Send SIGKILL to the whole process group.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = false), example = true)]
            pub killasgroup: Option<BooleanOrText>,
            /// Run as this user (name or uid); the daemon must run as root.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = null), example = &"www-data")]
            pub user: Option<String>,
            /// Send stderr into the stdout log.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = false), example = true)]
            pub redirect_stderr: Option<BooleanOrText>,
            /// Where stdout goes: a path, `AUTO` (a file in `childlogdir`), `NONE`, or
            /// `/dev/stdout`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = "AUTO"), example = &"/var/log/%(program_name)s.log")]
            pub stdout_logfile: Option<String>,
            /// Rotate the stdout log at this size (bytes, or `"50MB"`); 0 never rotates.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = "50MB"), example = &"10MB")]
            pub stdout_logfile_maxbytes: Option<IntegerOrText>,
            /// Rotated stdout logs to keep.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 10), example = 3)]
            pub stdout_logfile_backups: Option<IntegerOrText>,
            /// Bytes of stdout captured in capture mode (events); 0 turns it off.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 0), example = &"1MB")]
            pub stdout_capture_maxbytes: Option<IntegerOrText>,
            /// Emit PROCESS_LOG_STDOUT events.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = false), example = true)]
            pub stdout_events_enabled: Option<BooleanOrText>,
            /// Also send stdout to syslog.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = false), example = true)]
            pub stdout_syslog: Option<BooleanOrText>,
            /// Where stderr goes (see `stdout_logfile`); ignored with `redirect_stderr`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = "AUTO"), example = &"/var/log/%(program_name)s.err")]
            pub stderr_logfile: Option<String>,
            /// Rotate the stderr log at this size; 0 never rotates.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = "50MB"), example = &"10MB")]
            pub stderr_logfile_maxbytes: Option<IntegerOrText>,
            /// Rotated stderr logs to keep.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 10), example = 3)]
            pub stderr_logfile_backups: Option<IntegerOrText>,
            /// Bytes of stderr captured in capture mode (events); 0 turns it off.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 0), example = &"1MB")]
            pub stderr_capture_maxbytes: Option<IntegerOrText>,
            /// Emit PROCESS_LOG_STDERR events.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = false), example = true)]
            pub stderr_events_enabled: Option<BooleanOrText>,
            /// Also send stderr to syslog.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = false), example = true)]
            pub stderr_syslog: Option<BooleanOrText>,
            /// Variables added to each process's environment, over `[supervisord]`'s.
            /// Templates are expanded per process (`%(process_num)d`).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = {}), example = serde_json::json!({"PORT": "80%(process_num)02d"}))]
            pub environment: Option<EnvironmentOrText>,
            /// The working directory of each process.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = null), example = &"/srv/web")]
            pub directory: Option<String>,
            /// The umask of each process, in octal, as a string.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = null), example = &"022")]
            pub umask: Option<String>,
            /// `SUPERVISOR_SERVER_URL` in the children's environment; `AUTO` is the daemon's
            /// own server.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = "AUTO"), example = &"unix:///run/supervisor.sock")]
            pub serverurl: Option<String>,
            /// svc only (supervisord ignores it): shut the whole daemon down when a process of
            /// this program becomes FATAL (`"fatal"`) or exits unexpectedly (`"unexpected"`).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = null), example = &"fatal")]
            pub shutdown_on: Option<String>,
            /// svc only: the daemon's exit status for `shutdown_on` (0-255).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("default" = 1), example = 3)]
            pub shutdown_exitcode: Option<IntegerOrText>,
            $(
                $(#[doc = $field_doc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                #[schemars($($attribute)*)]
                pub $field: $type,
            )*
        }
    };
}

program_table! {
    /// `[programs.NAME]` (INI `[program:NAME]`): `numprocs` processes run from one command.
    ProgramTable {}
}

program_table! {
    /// `[eventlisteners.NAME]` (INI `[eventlistener:NAME]`): a pool of processes that receive
    /// supervisord's events on stdin.
    EventListenerTable {
        /// The event types the pool subscribes to. Required.
        #[schemars(example = serde_json::json!(["PROCESS_STATE", "TICK_60"]))]
        events: Option<NamesOrText>,
        /// Events queued for the pool before the oldest is dropped; at least 1.
        #[schemars(extend("default" = 10), example = 100)]
        buffer_size: Option<IntegerOrText>,
        /// How the listener's answers are read; svc implements supervisor's default only.
        #[schemars(extend("default" = "supervisor.dispatchers:default_handler"), example = &"supervisor.dispatchers:default_handler")]
        result_handler: Option<String>,
    }
}

program_table! {
    /// `[fcgi_programs.NAME]` (INI `[fcgi-program:NAME]`): processes sharing a socket the
    /// daemon opens and passes them as fd 0.
    FcgiProgramTable {
        /// `unix:///absolute/path` or `tcp://host:port`. Required.
        #[schemars(example = &"unix:///run/%(program_name)s.sock")]
        socket: Option<String>,
        /// The socket's `listen()` backlog (1-65535).
        #[schemars(extend("default" = "SOMAXCONN"), example = 128)]
        socket_backlog: Option<IntegerOrText>,
        /// A unix socket's mode, in octal, as a string.
        #[schemars(extend("default" = "0700"), example = &"0770")]
        socket_mode: Option<String>,
        /// A unix socket's owner, `user` or `user:group`.
        #[schemars(extend("default" = null), example = &"www-data:www-data")]
        socket_owner: Option<String>,
    }
}

/// `[groups.NAME]` (INI `[group:NAME]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupTable {
    /// The programs (names of `[programs.X]` or `[fcgi_programs.X]`) in the group; they no
    /// longer form groups of their own. Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = serde_json::json!(["web", "worker"]))]
    pub programs: Option<NamesOrText>,
    /// The group's start order (low first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 999), example = 100)]
    pub priority: Option<IntegerOrText>,
}

/// `[unix_http_server]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnixHttpServerTable {
    /// The socket's path. Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"/run/supervisor.sock")]
    pub file: Option<String>,
    /// The socket's mode, in octal, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "0700"), example = &"0770")]
    pub chmod: Option<String>,
    /// The socket's owner, `user` or `user:group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"supervisor:supervisor")]
    pub chown: Option<String>,
    /// Basic-auth user name (with `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"admin")]
    pub username: Option<String>,
    /// Basic-auth password, plain or `{SHA}` followed by the SHA-1 hex digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d")]
    pub password: Option<String>,
}

/// `[inet_http_server]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InetHttpServerTable {
    /// `host:port`, `:port` (every address) or a port number. Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"127.0.0.1:9001")]
    pub port: Option<IntegerOrText>,
    /// Basic-auth user name (with `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"admin")]
    pub username: Option<String>,
    /// Basic-auth password, plain or `{SHA}` followed by the SHA-1 hex digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"secret")]
    pub password: Option<String>,
}

/// `[supervisorctl]`: read by `svc ctl` and supervisorctl only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisorctlTable {
    /// The daemon's URL: `unix:///path` or `http://host:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "http://localhost:9001"), example = &"unix:///run/supervisor.sock")]
    pub serverurl: Option<String>,
    /// Basic-auth user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"admin")]
    pub username: Option<String>,
    /// Basic-auth password (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"secret")]
    pub password: Option<String>,
    /// The interactive prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "supervisor"), example = &"web01")]
    pub prompt: Option<String>,
    /// Where the interactive shell keeps its history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = null), example = &"~/.svc_history")]
    pub history_file: Option<String>,
}

/// The factory key of an `[rpcinterfaces.NAME]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RpcInterfaceFactory {
    /// `module:callable` making the interface; svc provides
    /// `supervisor.rpcinterface:make_main_rpcinterface` only. Required.
    #[serde(
        rename = "supervisor.rpcinterface_factory",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(example = &"supervisor.rpcinterface:make_main_rpcinterface")]
    pub factory: Option<String>,
}

/// The factory key of a `[ctlplugins.NAME]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CtlFactory {
    /// `module:callable` making the supervisorctl plugin. Required.
    #[serde(
        rename = "supervisor.ctl_factory",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(example = &"mypackage.ctl:make_plugin")]
    pub factory: Option<String>,
}

/// A plugin table: its factory key, and any other key, passed to the factory as text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PluginTable<Factory> {
    /// The factory.
    #[serde(flatten)]
    pub factory: Factory,
    /// Every other key, passed to the factory as a keyword argument (a string).
    #[serde(flatten)]
    pub extras: IndexMap<String, Scalar>,
}

/// `[include]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncludeTable {
    /// Glob patterns of the files to read after this one, relative to this file's
    /// directory; matches are read in sorted order, and each may include more files. A
    /// pattern matching nothing is a warning. Templates: `%(here)s`, `%(host_node_name)s`,
    /// `%(ENV_X)s`.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["conf.d/*.toml"]))]
    pub files: Vec<String>,
}

/// The JSON Schema of the format, as `svc schema` prints it.
pub fn json_schema() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .with_transform(schemars::transform::RecursiveTransform(without_null))
        .into_generator()
        .into_root_schema_for::<Config>()
}

/// TOML has no null (an absent key is left out), so `Option`'s `null` alternative goes.
fn without_null(schema: &mut schemars::Schema) {
    use serde_json::Value;
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|kind| kind != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    let null = serde_json::json!({"type": "null"});
    if let Some(Value::Array(alternatives)) = object.get_mut("anyOf") {
        alternatives.retain(|alternative| *alternative != null);
        if alternatives.len() == 1
            && let Some(Value::Object(only)) = alternatives.pop()
        {
            object.remove("anyOf");
            for (key, value) in only {
                object.entry(key).or_insert(value);
            }
        }
    }
}

/// Every table of the format and its keys, as the schema lists them: `(table, keys)` with
/// `programs` for `[programs.NAME]`. Plugin tables list only their factory key (they take
/// any other key); `defaults` and `include` are left out.
pub fn table_keys() -> Vec<(&'static str, Vec<String>)> {
    fn properties<T: JsonSchema>() -> Vec<String> {
        let schema = schemars::schema_for!(T);
        schema
            .get("properties")
            .and_then(|properties| properties.as_object())
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default()
    }
    vec![
        ("supervisord", properties::<SupervisordTable>()),
        ("unix_http_server", properties::<UnixHttpServerTable>()),
        ("inet_http_server", properties::<InetHttpServerTable>()),
        ("unix_http_servers", properties::<UnixHttpServerTable>()),
        ("inet_http_servers", properties::<InetHttpServerTable>()),
        ("supervisorctl", properties::<SupervisorctlTable>()),
        ("programs", properties::<ProgramTable>()),
        ("groups", properties::<GroupTable>()),
        ("eventlisteners", properties::<EventListenerTable>()),
        ("fcgi_programs", properties::<FcgiProgramTable>()),
        ("rpcinterfaces", properties::<RpcInterfaceFactory>()),
        ("ctlplugins", properties::<CtlFactory>()),
    ]
}
