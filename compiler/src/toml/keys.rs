//! The keys of every table of svc's TOML format, and which TOML types each accepts.
//!
//! This is the reader's half of the format; `svc_schema::toml` is its documented, typed
//! half (the JSON Schema). A test checks that both list the same tables and keys.
//!
//! A key keeps supervisord's name and its INI meaning: what the reader hands the lowering is
//! the text an INI file would have held. So a key accepts its natural TOML type (an integer
//! for `startsecs`, a boolean for `autostart`, an array for `programs`, a table for
//! `environment`) and also a string, which is read exactly as the INI text would be
//! (`numprocs = "%(ENV_WORKERS)s"`).

/// What a key accepts, and how a TOML value becomes the INI text of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string only (a path, a command, a name, an octal `umask` such as `"022"`).
    Text,
    /// An integer, or a string read as INI text (byte sizes such as `"50MB"`, signals such
    /// as `"TERM"`, `"%(ENV_N)s"`).
    Integer,
    /// A boolean, or a string read as INI text (`"unexpected"` for `autorestart`).
    Boolean,
    /// An array of strings, joined with `,` (`programs`, `events`), or a string.
    Names,
    /// An array of integers (or strings), joined with `,` (`exitcodes`), or a string.
    Integers,
    /// A table of strings (`environment`), or a string in supervisord's `KEY=value,...`
    /// form.
    Environment,
    /// A string, integer or boolean: the extra keys of a plugin, passed on as text.
    Any,
}

impl Kind {
    /// The TOML types it accepts, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Integer => "an integer (or a string)",
            Kind::Boolean => "a boolean (or a string)",
            Kind::Names => "an array of strings (or a string)",
            Kind::Integers => "an array of integers (or a string)",
            Kind::Environment => "a table of strings (or a string)",
            Kind::Any => "a string, an integer or a boolean",
        }
    }
}

/// The tables of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `[supervisord]`.
    Supervisord,
    /// `[unix_http_server]`, and `[unix_http_servers.NAME]` (INI
    /// `[unix_http_server:NAME]`).
    UnixHttpServer,
    /// `[inet_http_server]`, and `[inet_http_servers.NAME]`.
    InetHttpServer,
    /// `[supervisorctl]`.
    Supervisorctl,
    /// `[programs.NAME]`.
    Program,
    /// `[groups.NAME]`.
    Group,
    /// `[eventlisteners.NAME]`.
    EventListener,
    /// `[fcgi_programs.NAME]`.
    FcgiProgram,
    /// `[rpcinterfaces.NAME]`.
    RpcInterface,
    /// `[ctlplugins.NAME]`.
    CtlPlugin,
    /// `[include]`.
    Include,
    /// `[defaults]`, INI's `[DEFAULT]`.
    Defaults,
}

/// Every top-level key: its name, its table, and for a table of named tables the INI
/// section prefix (`programs.web` is `[program:web]`).
pub const TOP_LEVEL: &[(&str, Table, Option<&str>)] = &[
    ("supervisord", Table::Supervisord, None),
    ("unix_http_server", Table::UnixHttpServer, None),
    ("inet_http_server", Table::InetHttpServer, None),
    (
        "unix_http_servers",
        Table::UnixHttpServer,
        Some("unix_http_server:"),
    ),
    (
        "inet_http_servers",
        Table::InetHttpServer,
        Some("inet_http_server:"),
    ),
    ("supervisorctl", Table::Supervisorctl, None),
    ("programs", Table::Program, Some("program:")),
    ("groups", Table::Group, Some("group:")),
    (
        "eventlisteners",
        Table::EventListener,
        Some("eventlistener:"),
    ),
    ("fcgi_programs", Table::FcgiProgram, Some("fcgi-program:")),
    ("rpcinterfaces", Table::RpcInterface, Some("rpcinterface:")),
    ("ctlplugins", Table::CtlPlugin, Some("ctlplugin:")),
    ("include", Table::Include, None),
    ("defaults", Table::Defaults, None),
];

const SUPERVISORD: &[(&str, Kind)] = &[
    ("logfile", Kind::Text),
    ("logfile_maxbytes", Kind::Integer),
    ("logfile_backups", Kind::Integer),
    ("loglevel", Kind::Text),
    ("pidfile", Kind::Text),
    ("umask", Kind::Text),
    ("nodaemon", Kind::Boolean),
    ("silent", Kind::Boolean),
    ("minfds", Kind::Integer),
    ("minprocs", Kind::Integer),
    ("nocleanup", Kind::Boolean),
    ("childlogdir", Kind::Text),
    ("user", Kind::Text),
    ("directory", Kind::Text),
    ("strip_ansi", Kind::Boolean),
    ("environment", Kind::Environment),
    ("identifier", Kind::Text),
    ("profile_options", Kind::Text),
];

const PROGRAM: &[(&str, Kind)] = &[
    ("command", Kind::Text),
    ("process_name", Kind::Text),
    ("numprocs", Kind::Integer),
    ("numprocs_start", Kind::Integer),
    ("priority", Kind::Integer),
    ("autostart", Kind::Boolean),
    ("autorestart", Kind::Boolean),
    ("startsecs", Kind::Integer),
    ("startretries", Kind::Integer),
    ("exitcodes", Kind::Integers),
    ("stopsignal", Kind::Integer),
    ("stopwaitsecs", Kind::Integer),
    ("stopasgroup", Kind::Boolean),
    ("killasgroup", Kind::Boolean),
    ("user", Kind::Text),
    ("redirect_stderr", Kind::Boolean),
    ("stdout_logfile", Kind::Text),
    ("stdout_logfile_maxbytes", Kind::Integer),
    ("stdout_logfile_backups", Kind::Integer),
    ("stdout_capture_maxbytes", Kind::Integer),
    ("stdout_events_enabled", Kind::Boolean),
    ("stdout_syslog", Kind::Boolean),
    ("stderr_logfile", Kind::Text),
    ("stderr_logfile_maxbytes", Kind::Integer),
    ("stderr_logfile_backups", Kind::Integer),
    ("stderr_capture_maxbytes", Kind::Integer),
    ("stderr_events_enabled", Kind::Boolean),
    ("stderr_syslog", Kind::Boolean),
    ("environment", Kind::Environment),
    ("directory", Kind::Text),
    ("umask", Kind::Text),
    ("serverurl", Kind::Text),
    ("shutdown_on", Kind::Text),
    ("shutdown_exitcode", Kind::Integer),
];

const FCGI: &[(&str, Kind)] = &[
    ("socket", Kind::Text),
    ("socket_backlog", Kind::Integer),
    ("socket_mode", Kind::Text),
    ("socket_owner", Kind::Text),
];

const LISTENER: &[(&str, Kind)] = &[
    ("buffer_size", Kind::Integer),
    ("events", Kind::Names),
    ("result_handler", Kind::Text),
];

const GROUP: &[(&str, Kind)] = &[("programs", Kind::Names), ("priority", Kind::Integer)];

const UNIX: &[(&str, Kind)] = &[
    ("file", Kind::Text),
    ("chmod", Kind::Text),
    ("chown", Kind::Text),
    ("username", Kind::Text),
    ("password", Kind::Text),
];

const INET: &[(&str, Kind)] = &[
    ("port", Kind::Integer),
    ("username", Kind::Text),
    ("password", Kind::Text),
];

const SUPERVISORCTL: &[(&str, Kind)] = &[
    ("serverurl", Kind::Text),
    ("username", Kind::Text),
    ("password", Kind::Text),
    ("prompt", Kind::Text),
    ("history_file", Kind::Text),
];

const RPCINTERFACE: &[(&str, Kind)] = &[("supervisor.rpcinterface_factory", Kind::Text)];

const CTLPLUGIN: &[(&str, Kind)] = &[("supervisor.ctl_factory", Kind::Text)];

/// The key lists of a table, in documentation order. `[include]` (its one key, `files`, is
/// an array the reader handles itself) and `[defaults]` (any key of any other table) have
/// none of their own.
pub fn keys(table: Table) -> &'static [&'static [(&'static str, Kind)]] {
    match table {
        Table::Supervisord => &[SUPERVISORD],
        Table::UnixHttpServer => &[UNIX],
        Table::InetHttpServer => &[INET],
        Table::Supervisorctl => &[SUPERVISORCTL],
        Table::Program => &[PROGRAM],
        Table::Group => &[GROUP],
        Table::EventListener => &[PROGRAM, LISTENER],
        Table::FcgiProgram => &[PROGRAM, FCGI],
        Table::RpcInterface => &[RPCINTERFACE],
        Table::CtlPlugin => &[CTLPLUGIN],
        Table::Include | Table::Defaults => &[],
    }
}

/// The kind of `key` in `table`, if the table has it. Plugin tables take any other key as
/// [`Kind::Any`] (supervisord passes every key to the plugin's factory); `[defaults]` takes
/// any key another table has.
pub fn kind(table: Table, key: &str) -> Option<Kind> {
    let own = keys(table)
        .iter()
        .flat_map(|list| list.iter())
        .find(|(name, _)| *name == key)
        .map(|(_, kind)| *kind);
    match table {
        Table::RpcInterface | Table::CtlPlugin => Some(own.unwrap_or(Kind::Any)),
        Table::Defaults => TOP_LEVEL
            .iter()
            .filter(|(_, other, _)| {
                !matches!(
                    other,
                    Table::Defaults | Table::RpcInterface | Table::CtlPlugin
                )
            })
            .find_map(|(_, other, _)| kind(*other, key)),
        _ => own,
    }
}

/// Every key name of `table`, for did-you-mean.
pub fn names(table: Table) -> Vec<&'static str> {
    match table {
        Table::Defaults => TOP_LEVEL
            .iter()
            .filter(|(_, other, _)| !matches!(other, Table::Defaults | Table::Include))
            .flat_map(|(_, other, _)| names(*other))
            .collect(),
        Table::Include => vec!["files"],
        _ => keys(table)
            .iter()
            .flat_map(|list| list.iter().map(|(name, _)| *name))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_like_tables_share_the_program_keys() {
        assert_eq!(kind(Table::EventListener, "command"), Some(Kind::Text));
        assert_eq!(kind(Table::FcgiProgram, "socket"), Some(Kind::Text));
        assert_eq!(kind(Table::Program, "socket"), None);
        assert_eq!(kind(Table::Defaults, "startsecs"), Some(Kind::Integer));
        assert_eq!(kind(Table::Defaults, "nonsense"), None);
        assert_eq!(kind(Table::RpcInterface, "retries"), Some(Kind::Any));
    }

    #[test]
    fn the_schema_documents_exactly_these_keys() {
        let documented = svc_schema::toml::table_keys();
        for (top, table, _) in TOP_LEVEL {
            if matches!(table, Table::Include | Table::Defaults) {
                continue;
            }
            let Some((_, schema_keys)) = documented.iter().find(|(name, _)| name == top) else {
                panic!("svc_schema::toml::table_keys() has no `{top}`");
            };
            let mut schema_keys: Vec<&str> = schema_keys.iter().map(String::as_str).collect();
            let mut reader_keys = names(*table);
            schema_keys.sort_unstable();
            reader_keys.sort_unstable();
            assert_eq!(schema_keys, reader_keys, "[{top}]");
        }
        assert_eq!(documented.len(), TOP_LEVEL.len() - 2);
    }

    #[test]
    fn every_key_is_one_the_ini_reader_knows() {
        for (top, table, prefix) in TOP_LEVEL {
            let section = match prefix {
                Some(prefix) => format!("{prefix}x"),
                None => (*top).to_string(),
            };
            let Some(known) = crate::lints::unknown_key::known_keys(&section) else {
                continue;
            };
            if *table == Table::Include {
                // `files` is read by the include reader, as an array of patterns.
                assert_eq!(names(*table), ["files"]);
                continue;
            }
            for name in names(*table) {
                assert!(
                    known.iter().any(|(_, is_known)| is_known(name)),
                    "{top}.{name} is not a key supervisord reads in [{section}]"
                );
            }
            for (list, _) in known {
                for name in *list {
                    assert!(
                        kind(*table, name).is_some(),
                        "[{section}] {name} has no TOML form in [{top}]"
                    );
                }
            }
        }
    }
}
