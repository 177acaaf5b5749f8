//! The Python exceptions supervisorctl lets escape from a command, as data.
//!
//! supervisorctl catches only some failures inside each command (a fault it knows, a refused
//! connection in `upcheck`); everything else reaches `Controller.onecmd`, which prints
//! `error: <class 'C'>, V: file: F line: N` (the exception's class, its `str()`, and the last
//! frame of its traceback) and sets exit status 1. [`Exception`] is that set of failures, and
//! [`Exception::render`] is the one place that prints them.
//!
//! **Boundary:** the frame is where supervisor 4.3.0 on Python 3.11 raises the exception, as
//! a path relative to Python's library directory (`xmlrpc/client.py`,
//! `supervisor/xmlrpc.py`): supervisorctl prints the absolute path of its installation,
//! which svc does not have.
//!
//! Owns nothing else: which failure a command catches is the command's business.

use std::io;

/// Where supervisorctl's traceback ends: a file under Python's library directory and a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Site {
    file: &'static str,
    line: u32,
}

impl Site {
    /// `Unmarshaller.close`, which raises a response's `Fault`.
    pub(crate) const FAULT: Site = Site::new("xmlrpc/client.py", 668);
    /// `ExpatParser.feed`, which raises on a response that is not XML.
    pub(crate) const XML_PARSE: Site = Site::new("xmlrpc/client.py", 451);
    /// `Marshaller.dump_long`, which refuses an integer beyond 32 bits.
    pub(crate) const INT_LIMITS: Site = Site::new("xmlrpc/client.py", 552);
    /// `SupervisorTransport.request`, which raises `ProtocolError` on a status other than 200.
    pub(crate) const PROTOCOL: Site = Site::new("supervisor/xmlrpc.py", 539);
    /// `SupervisorTransport.__init__`, which refuses a server URL it cannot connect to.
    pub(crate) const UNKNOWN_PROTOCOL: Site = Site::new("supervisor/xmlrpc.py", 505);
    /// `UnixStreamHTTPConnection.connect`.
    pub(crate) const UNIX_CONNECT: Site = Site::new("supervisor/xmlrpc.py", 557);
    /// `socket.create_connection`'s `connect`.
    pub(crate) const TCP_CONNECT: Site = Site::new("socket.py", 836);
    /// `socket.getaddrinfo`, for a host name that does not resolve.
    pub(crate) const RESOLVE: Site = Site::new("socket.py", 962);
    /// `urlsplit(...).port` on a port that is not a number.
    pub(crate) const URL_PORT: Site = Site::new("urllib/parse.py", 182);
    /// `urlsplit(...).port` on a number beyond 65535.
    pub(crate) const URL_PORT_RANGE: Site = Site::new("urllib/parse.py", 184);
    /// `HTTPResponse._read_status`, for a connection closed without a response.
    pub(crate) const NO_RESPONSE: Site = Site::new("http/client.py", 294);
    /// `_startresult`'s assertion on a result code it does not know.
    pub(crate) const START_RESULT: Site = Site::new("supervisor/supervisorctl.py", 761);
    /// `_signalresult`'s assertion (also `stop`'s).
    pub(crate) const SIGNAL_RESULT: Site = Site::new("supervisor/supervisorctl.py", 835);
    /// `_clearresult`'s assertion.
    pub(crate) const CLEAR_RESULT: Site = Site::new("supervisor/supervisorctl.py", 1260);
    /// `raw_input` in the 401 retry of `onecmd`.
    pub(crate) const ASK_USERNAME: Site = Site::new("supervisor/supervisorctl.py", 212);
    /// `getpass.getpass` in the 401 retry, at the end of input.
    pub(crate) const GETPASS: Site = Site::new("getpass.py", 148);
    /// `raw_input` in `shutdown`'s confirmation.
    pub(crate) const CONFIRM_SHUTDOWN: Site = Site::new("supervisor/supervisorctl.py", 987);
    /// `raw_input` in `reload`'s confirmation.
    pub(crate) const CONFIRM_RELOAD: Site = Site::new("supervisor/supervisorctl.py", 1027);
    /// Reading a field of a response that does not have it (a server that is not supervisord).
    pub(crate) const RESPONSE_SHAPE: Site = Site::new("supervisor/supervisorctl.py", 0);

    const fn new(file: &'static str, line: u32) -> Site {
        Site { file, line }
    }
}

/// A Python exception that reaches `onecmd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exception {
    /// `xmlrpc.client.Fault`: the server answered with a fault.
    Fault {
        /// `faultCode`.
        code: i32,
        /// `faultString`.
        string: String,
    },
    /// `xmlrpc.client.ProtocolError`: an HTTP status other than 200.
    Protocol {
        /// The status code.
        status: u16,
        /// The reason phrase the server sent.
        reason: String,
    },
    /// An `OSError` subclass chosen by errno (`ConnectionRefusedError`, ...).
    Os {
        /// The errno.
        errno: i32,
        /// Where it is raised.
        site: Site,
    },
    /// Any other exception: its qualified class name and its `str()`.
    Other {
        /// `ValueError`, `xml.parsers.expat.ExpatError`, ...
        class: &'static str,
        /// `str(exception)`.
        message: String,
        /// Where it is raised.
        site: Site,
    },
}

impl Exception {
    /// An `OSError` from an I/O error: by errno when it has one, else a generic `OSError`.
    pub(crate) fn from_io(error: &io::Error, site: Site) -> Exception {
        match error.raw_os_error() {
            Some(errno) => Exception::Os { errno, site },
            None => Exception::Other {
                class: "OSError",
                message: error.to_string(),
                site,
            },
        }
    }

    /// The errno of an `OSError` (`socket.error` in supervisorctl's `except` clauses).
    pub(crate) fn errno(&self) -> Option<i32> {
        match self {
            Exception::Os { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The fault code of a `Fault`.
    pub(crate) fn fault_code(&self) -> Option<i32> {
        match self {
            Exception::Fault { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// `str(exception)`.
    pub(crate) fn message(&self) -> String {
        match self {
            Exception::Fault { code, string } => format!("<Fault {code}: {}>", py_repr(string)),
            Exception::Protocol { status, reason } => {
                format!("<ProtocolError for 127.0.0.1/RPC2: {status} {reason}>")
            }
            Exception::Os { errno, .. } => format!("[Errno {errno}] {}", strerror(*errno)),
            Exception::Other { message, .. } => message.clone(),
        }
    }

    /// The exception's class as Python names it (`xmlrpc.client.Fault`, `FileNotFoundError`).
    pub(crate) fn class(&self) -> &'static str {
        match self {
            Exception::Fault { .. } => "xmlrpc.client.Fault",
            Exception::Protocol { .. } => "xmlrpc.client.ProtocolError",
            Exception::Os { errno, .. } => os_error_class(*errno),
            Exception::Other { class, .. } => class,
        }
    }

    fn site(&self) -> Site {
        match self {
            Exception::Fault { .. } => Site::FAULT,
            Exception::Protocol { .. } => Site::PROTOCOL,
            Exception::Os { site, .. } | Exception::Other { site, .. } => *site,
        }
    }

    /// The line `onecmd` prints for an exception it did not expect.
    pub(crate) fn render(&self) -> String {
        let site = self.site();
        format!(
            "error: <class '{}'>, {}: file: {} line: {}",
            self.class(),
            self.message(),
            site.file,
            site.line
        )
    }
}

/// The `OSError` subclass Python raises for an errno.
fn os_error_class(errno: i32) -> &'static str {
    match errno {
        libc::ECONNREFUSED => "ConnectionRefusedError",
        libc::ENOENT => "FileNotFoundError",
        libc::EACCES | libc::EPERM => "PermissionError",
        libc::ECONNRESET => "ConnectionResetError",
        libc::ECONNABORTED => "ConnectionAbortedError",
        libc::EPIPE | libc::ESHUTDOWN => "BrokenPipeError",
        libc::ETIMEDOUT => "TimeoutError",
        libc::ENOTDIR => "NotADirectoryError",
        libc::EISDIR => "IsADirectoryError",
        libc::EINTR => "InterruptedError",
        libc::EAGAIN | libc::EALREADY | libc::EINPROGRESS => "BlockingIOError",
        // getaddrinfo's EAI_NONAME and friends are negative.
        errno if errno < 0 => "socket.gaierror",
        _ => "OSError",
    }
}

/// The C library's message for an errno (`Connection refused`), or getaddrinfo's for the
/// negative `EAI_*` codes Python reports for names that do not resolve.
fn strerror(errno: i32) -> String {
    match errno {
        -2 => "Name or service not known".into(),
        -3 => "Temporary failure in name resolution".into(),
        -5 => "No address associated with hostname".into(),
        errno if errno < 0 => format!("getaddrinfo error {errno}"),
        errno => {
            let text = io::Error::from_raw_os_error(errno).to_string();
            match text.rfind(" (os error ") {
                Some(end) => text[..end].to_string(),
                None => text,
            }
        }
    }
}

pub(crate) use svc_schema::python::repr as py_repr;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_render_as_supervisorctl_prints_them() {
        let fault = Exception::Fault {
            code: 1,
            string: "UNKNOWN_METHOD".into(),
        };
        assert_eq!(
            fault.render(),
            "error: <class 'xmlrpc.client.Fault'>, <Fault 1: 'UNKNOWN_METHOD'>: file: xmlrpc/client.py line: 668"
        );
    }

    #[test]
    fn protocol_errors_name_the_fake_host() {
        let error = Exception::Protocol {
            status: 401,
            reason: "Unauthorized".into(),
        };
        assert_eq!(
            error.message(),
            "<ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>"
        );
    }

    #[test]
    fn os_errors_carry_errno_and_strerror() {
        let error = Exception::Os {
            errno: libc::ECONNREFUSED,
            site: Site::TCP_CONNECT,
        };
        assert_eq!(
            error.render(),
            "error: <class 'ConnectionRefusedError'>, [Errno 111] Connection refused: file: socket.py line: 836"
        );
        assert_eq!(
            Exception::Os {
                errno: libc::ENOENT,
                site: Site::UNIX_CONNECT
            }
            .message(),
            "[Errno 2] No such file or directory"
        );
    }

    #[test]
    fn repr_picks_quotes_like_python() {
        assert_eq!(py_repr("abc"), "'abc'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("'\""), "'\\'\"'");
        assert_eq!(py_repr("a\nb\\"), "'a\\nb\\\\'");
        assert_eq!(py_repr("\x01"), "'\\x01'");
    }
}
