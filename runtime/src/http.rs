//! The HTTP/1.1 server layer of the control plane: supervisord's `[unix_http_server]` and
//! `[inet_http_server]` sockets (`supervisor/http.py`), HTTP Basic authentication, and the
//! accept loop that hands authenticated requests to a [`Handler`].
//!
//! It owns binding (with supervisord's messages, so `svc run` fails as supervisord does),
//! the socket file's lifetime, authentication and the per-connection limits. It deliberately
//! does not route, speak XML-RPC or choose body limits: the [`Handler`] does, with
//! [`read_body`] for a bounded body and [`error_response`] for Medusa's error pages. Each
//! request carries a [`Peer`] in its extensions, so that a streaming response can learn
//! that its client hung up.
//!
//! Binding uses plain std sockets, so it runs before any async runtime exists (svc binds,
//! then forks to daemonize, as supervisord does). [`serve`] then runs on a
//! `smol::LocalExecutor`: one accept task per listener and one task per connection, each
//! driving hyper's HTTP/1 server over `smol_hyper::rt::FuturesIo`.
//!
//! Invariants:
//! - A unix socket is never reachable with looser permissions than its `chmod`: the socket's
//!   inode gets the mode before `bind` (so the file is created with `chmod & !umask`), the
//!   file is bound under the temporary name `<file>.<pid>`, set to exactly `chmod`, chowned,
//!   and only then hard-linked to `<file>`.
//! - The socket file is removed when its [`Listener`] is dropped, and only if `<file>` is
//!   still the inode svc created. [`serve`] holds its executor weakly, so dropping the
//!   executor drops the listener.
//! - With credentials configured, no request reaches the handler without them; the password
//!   comparison takes the same time wherever the first difference is.
//! - A client cannot stall the daemon: everything is asynchronous, at most
//!   [`MAX_CONNECTIONS`] connections per listener are served (excess ones are closed at
//!   once), request heads are bounded in size ([`MAX_HEADER_BYTES`], 431 beyond) and must
//!   arrive within [`HEADER_READ_TIMEOUT`] of their first byte; an idle keep-alive connection
//!   is closed after [`KEEP_ALIVE_IDLE`] (Medusa's zombie timeout).
//! - Client errors never end an accept loop and print nothing.
//!
//! Deliberate differences from supervisord 4.3.0: no `Server: Medusa/1.12` header; header
//! names are title-cased (`Www-Authenticate`); a Basic value without `:` is a 401 and one
//! that is not strict base64 a 400 (supervisord answers 500 or 400); a file at the socket path that is not a socket is refused
//! rather than deleted; bind retries after a stale socket are bounded.

use std::cell::Cell;
use std::convert::Infallible;
use std::ffi::CString;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Body as _, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::rt::{Sleep, Timer};
use hyper::{Request, Response, StatusCode};
use sha1::Digest;
use smol::io::{AsyncRead, AsyncWrite};
use smol::{Async, LocalExecutor};
use smol_hyper::rt::{FuturesIo, SmolTimer};
use svc_schema::{Credentials, InetHttpServer, OwnerSpec, UnixHttpServer};

/// A response body: whole (see [`full`]) or streamed.
pub type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

/// What serves requests that passed authentication.
pub type Handler = Rc<dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<Body>>>>>;

/// Connections served at once per listener; more are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 256;
/// Largest request head (request line and headers); a larger one gets 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Largest read buffer of one connection.
const MAX_BUFFER_BYTES: usize = 64 * 1024;
/// Time a request head may take from its first byte (and a new connection to send one).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Time a keep-alive connection may stay idle between requests (Medusa's zombie timeout).
pub const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(30 * 60);
/// Time [`read_body`] waits for the next piece of a body.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// supervisord's message when a socket or port is taken (`options.openhttpservers`).
pub const ADDRESS_IN_USE: &str = "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.";
const CANNOT_OPEN: &str = "Cannot open an HTTP server: socket.error reported";
/// Times a stale socket is unlinked before giving up (someone keeps recreating it).
const STALE_RETRIES: usize = 8;
/// How long the in-use probe waits for an answer; silence counts as in use.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Pause after `accept` failed for lack of descriptors or memory, before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A whole response body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(bytes.into()).boxed_unsync()
}

/// Medusa's error page for `status`, with its reason phrase (`413 Request Entity Too
/// Large`), `Content-Length` and `Content-Type: text/html`, as supervisord sends errors.
pub fn error_response(status: StatusCode) -> Response<Body> {
    let reason = medusa_reason(status);
    let page = format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code {}.\r\n<p>Message: {reason}.\r\n</body>\r\n",
        status.as_u16()
    );
    let mut response = Response::new(full(page.clone()));
    *response.status_mut() = status;
    if Some(reason) != status.canonical_reason() {
        response
            .extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(reason.as_bytes()));
    }
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(page.len()));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// Medusa's reason phrases where they differ from today's (`http_server.responses`).
fn medusa_reason(status: StatusCode) -> &'static str {
    match status.as_u16() {
        302 => "Moved Temporarily",
        408 => "Request Time-out",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Large",
        504 => "Gateway Time-out",
        _ => status.canonical_reason().unwrap_or("Unknown"),
    }
}

/// A bound, listening socket, ready for [`serve`].
#[derive(Debug)]
pub enum Listener {
    /// `[unix_http_server]`: the socket and its file.
    Unix(UnixSocket),
    /// `[inet_http_server]`.
    Tcp(TcpListener),
}

/// A listening unix socket and the file svc created for it (removed on drop).
#[derive(Debug)]
pub struct UnixSocket {
    listener: UnixListener,
    file: SocketFile,
}

impl UnixSocket {
    /// The socket's path (`file=`).
    pub fn path(&self) -> &Path {
        &self.file.path
    }
}

/// The socket file svc linked into place; removed on drop if it is still that inode.
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    device: u64,
    inode: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Ok(metadata) = std::fs::symlink_metadata(&self.path)
            && metadata.dev() == self.device
            && metadata.ino() == self.inode
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes the temporary name `<file>.<pid>` on every path out of a bind attempt.
struct TemporaryName<'a>(&'a Path);

impl Drop for TemporaryName<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

impl Listener {
    /// Creates the `[unix_http_server]` socket as supervisord does
    /// (`supervisor_af_unix_http_server`), but never with looser permissions than `chmod`:
    /// bind `<file>.<pid>`, set its mode and owner, hard-link it to `<file>`. A stale socket
    /// at `<file>` (nothing answers) is unlinked with `Unlinking stale socket <file>` on
    /// stderr; a live one is [`ADDRESS_IN_USE`]. Errors are supervisord's messages.
    pub fn bind_unix(server: &UnixHttpServer) -> Result<Listener, String> {
        let path = Path::new(&server.file);
        let temporary = PathBuf::from(format!("{}.{}", server.file, std::process::id()));
        if temporary.as_os_str().len() > sun_path_capacity() {
            return Err(format!("{CANNOT_OPEN} AF_UNIX path too long"));
        }
        let owner = server.chown.as_ref().map(resolve_owner).transpose()?;
        let _ = std::fs::remove_file(&temporary);
        for _ in 0..STALE_RETRIES {
            let listener = bind_private(&temporary, server.chmod).map_err(socket_error)?;
            let _temporary_name = TemporaryName(&temporary);
            std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(server.chmod))
                .map_err(socket_error)?;
            if let Some((uid, gid)) = owner {
                change_owner(&temporary, path, uid, gid)?;
            }
            let created = std::fs::symlink_metadata(&temporary).map_err(socket_error)?;
            match std::fs::hard_link(&temporary, path) {
                Ok(()) => {
                    let file = SocketFile {
                        path: path.to_path_buf(),
                        device: created.dev(),
                        inode: created.ino(),
                    };
                    return Ok(Listener::Unix(UnixSocket { listener, file }));
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    remove_stale_socket(path)?;
                }
                Err(error) => return Err(socket_error(error)),
            }
        }
        Err(ADDRESS_IN_USE.to_string())
    }

    /// Binds the `[inet_http_server]` port: `host` empty or `*` means every interface;
    /// a name is resolved to its first IPv4 address, as supervisord's `AF_INET` socket
    /// does. Errors are supervisord's messages.
    pub fn bind_inet(server: &InetHttpServer) -> Result<Listener, String> {
        let address = match server.host.as_str() {
            "" | "*" => Ipv4Addr::UNSPECIFIED,
            host => resolve_ipv4(host)?,
        };
        // std sets SO_REUSEADDR, as Medusa's `set_reuse_addr` does.
        TcpListener::bind(SocketAddr::from((address, server.port)))
            .map(Listener::Tcp)
            .map_err(socket_error)
    }
}

/// supervisord's wording for a socket error (`options.openhttpservers`).
fn socket_error(error: io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::EADDRINUSE) => ADDRESS_IN_USE.to_string(),
        Some(code) => match nix::errno::Errno::from_raw(code) {
            nix::errno::Errno::UnknownErrno => format!("{CANNOT_OPEN} {code}"),
            errno => format!("{CANNOT_OPEN} errno.{errno:?} ({code})"),
        },
        None => format!("{CANNOT_OPEN} {error}"),
    }
}

/// `<file>` exists: fail if something answers on it, otherwise unlink it (only a socket).
fn remove_stale_socket(path: &Path) -> Result<(), String> {
    if socket_answers(path) {
        return Err(ADDRESS_IN_USE.to_string());
    }
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if !metadata.file_type().is_socket() => {
            return Err(format!(
                "Cannot open an HTTP server: {} exists and is not a socket",
                path.display()
            ));
        }
        _ => {}
    }
    eprintln!("Unlinking stale socket {}", path.display());
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(socket_error(error)),
        _ => Ok(()),
    }
}

/// supervisord's `checkused`: connect, send `GET / HTTP/1.0`, read one byte. An answer, an
/// end of stream or silence means in use; a refused connection or a reset means stale.
fn socket_answers(path: &Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = UnixStream::connect(path) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(PROBE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(PROBE_TIMEOUT));
    if stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    match stream.read_exact(&mut [0u8; 1]) {
        Ok(()) => true,
        Err(error) => matches!(
            error.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
    }
}

/// `sizeof(sun_path)`: the longest socket path (Python allows all of it, without a NUL).
fn sun_path_capacity() -> usize {
    // SAFETY: sockaddr_un is plain old data; all zeroes is a valid value.
    let address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    address.sun_path.len()
}

/// A listening unix socket at `path` whose file is created with at most `mode`: the mode is
/// set on the socket's inode before `bind`, which creates the file with `mode & !umask`.
fn bind_private(path: &Path, mode: u32) -> io::Result<UnixListener> {
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain old data; all zeroes is a valid value.
    let mut address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() > address.sun_path.len() || bytes.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    address.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (slot, byte) in address.sun_path.iter_mut().zip(bytes) {
        *slot = *byte as libc::c_char;
    }
    let length = std::mem::offset_of!(libc::sockaddr_un, sun_path)
        + bytes.len()
        + usize::from(bytes.len() < address.sun_path.len());
    // SAFETY: socket(2) with constant arguments; the result is checked before use.
    let raw = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a new descriptor that nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    nix::sys::stat::fchmod(
        &socket,
        nix::sys::stat::Mode::from_bits_truncate((mode & 0o777) as libc::mode_t),
    )?;
    // SAFETY: `address` is an initialized sockaddr_un and `length` lies within it.
    let bound = unsafe {
        libc::bind(
            raw,
            (&raw const address).cast::<libc::sockaddr>(),
            length as libc::socklen_t,
        )
    };
    if bound != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: listen(2) on the descriptor owned by `socket`. Medusa's backlog.
    if unsafe { libc::listen(raw, 1024) } != 0 {
        let error = io::Error::last_os_error();
        let _ = std::fs::remove_file(path);
        return Err(error);
    }
    Ok(UnixListener::from(socket))
}

/// `colon_separated_user_group`: names or ids; a missing group leaves the group as is.
fn resolve_owner(owner: &OwnerSpec) -> Result<(u32, Option<u32>), String> {
    use nix::unistd::{Gid, Group, Uid, User};
    let written = match &owner.group {
        Some(group) => format!("{}:{group}", owner.user),
        None => owner.user.clone(),
    };
    let invalid = || format!("Invalid sockchown value {written}");
    let user = match owner.user.parse::<u32>() {
        Ok(uid) => User::from_uid(Uid::from_raw(uid)),
        Err(_) => User::from_name(&owner.user),
    };
    let uid = user.ok().flatten().ok_or_else(invalid)?.uid.as_raw();
    let gid = match &owner.group {
        None => None,
        Some(group) => {
            let record = match group.parse::<u32>() {
                Ok(gid) => Group::from_gid(Gid::from_raw(gid)),
                Err(_) => Group::from_name(group),
            };
            Some(record.ok().flatten().ok_or_else(invalid)?.gid.as_raw())
        }
    };
    Ok((uid, gid))
}

/// `os.chown` of the socket (done on the temporary name, before it becomes reachable).
fn change_owner(temporary: &Path, file: &Path, uid: u32, gid: Option<u32>) -> Result<(), String> {
    use nix::unistd::{Gid, Uid, User};
    let result = nix::unistd::chown(temporary, Some(Uid::from_raw(uid)), gid.map(Gid::from_raw));
    match result {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EPERM) => {
            let euid = Uid::effective();
            let current = User::from_uid(euid)
                .ok()
                .flatten()
                .map_or_else(|| euid.to_string(), |user| user.name);
            Err(chown_refused(file, uid, gid, &current))
        }
        Err(errno) => Err(socket_error(io::Error::from(errno))),
    }
}

/// supervisord's EPERM message; the ids as Python's `repr` of the `(uid, gid)` tuple.
fn chown_refused(file: &Path, uid: u32, gid: Option<u32>, current_user: &str) -> String {
    let gid = gid.map_or_else(|| "-1".to_string(), |gid| gid.to_string());
    format!(
        "Not permitted to chown {} to uid/gid ({uid}, {gid}); adjust \"sockchown\" value in config file or on command line to values that the current user ({current_user}) can successfully chown",
        file.display()
    )
}

/// Python's `setipaddr` for an `AF_INET` socket: a dotted quad as is, otherwise the first
/// IPv4 address of `getaddrinfo`; a failure is reported with its `EAI_*` code.
fn resolve_ipv4(host: &str) -> Result<Ipv4Addr, String> {
    if let Ok(address) = host.parse::<Ipv4Addr>() {
        return Ok(address);
    }
    let no_name = format!("{CANNOT_OPEN} {}", libc::EAI_NONAME);
    let name = CString::new(host).map_err(|_| no_name.clone())?;
    // SAFETY: addrinfo is plain old data; all zeroes is the documented "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_INET;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C strings and hints; `list` receives a list freed below.
    let code = unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if code != 0 {
        return Err(format!("{CANNOT_OPEN} {code}"));
    }
    let mut found = None;
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: `cursor` is an entry of the list getaddrinfo returned, not yet freed.
        let entry = unsafe { &*cursor };
        if entry.ai_family == libc::AF_INET && !entry.ai_addr.is_null() {
            // SAFETY: an AF_INET entry's address is a sockaddr_in.
            let address = unsafe { &*entry.ai_addr.cast::<libc::sockaddr_in>() };
            found = Some(Ipv4Addr::from(u32::from_be(address.sin_addr.s_addr)));
            break;
        }
        cursor = entry.ai_next;
    }
    // SAFETY: `list` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    found.ok_or(no_name)
}

/// Limits of one listener (constants in production; small in tests).
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_connections: usize,
    header_read_timeout: Duration,
    keep_alive_idle: Duration,
}

impl Limits {
    const DEFAULT: Limits = Limits {
        max_connections: MAX_CONNECTIONS,
        header_read_timeout: HEADER_READ_TIMEOUT,
        keep_alive_idle: KEEP_ALIVE_IDLE,
    };
}

/// The accept loop of `listener`: each connection is served by its own task on `executor`,
/// requests are authenticated against `auth` (if any) and handed to `handler`. Runs until
/// the future is dropped; dropping it drops the listener (a unix socket file is removed).
///
/// The executor is held weakly, so a task spawned with this future does not keep its own
/// executor alive: dropping the executor drops the listener.
pub fn serve(
    listener: Listener,
    auth: Option<Credentials>,
    handler: Handler,
    executor: Rc<LocalExecutor<'static>>,
) -> impl Future<Output = ()> + 'static {
    serve_with(
        listener,
        auth,
        handler,
        Rc::downgrade(&executor),
        Limits::DEFAULT,
    )
}

async fn serve_with(
    listener: Listener,
    auth: Option<Credentials>,
    handler: Handler,
    executor: Weak<LocalExecutor<'static>>,
    limits: Limits,
) {
    let shared = Shared {
        auth: auth.map(Rc::new),
        handler,
        executor,
        limits,
        active: Rc::new(Cell::new(0)),
    };
    match listener {
        Listener::Unix(UnixSocket { listener, file }) => {
            let Ok(listener) = Async::new(listener) else {
                eprintln!(
                    "svc: could not register {} with the reactor",
                    file.path.display()
                );
                return;
            };
            let listener = &listener;
            accept_loop(&shared, move || async move {
                listener.accept().await.map(|(stream, _)| stream)
            })
            .await;
            // The socket file lives as long as the loop (dropping this future removes it).
            drop(file);
        }
        Listener::Tcp(listener) => {
            let Ok(listener) = Async::new(listener) else {
                eprintln!("svc: could not register a TCP listener with the reactor");
                return;
            };
            let listener = &listener;
            accept_loop(&shared, move || async move {
                let (stream, _) = listener.accept().await?;
                let _ = stream.get_ref().set_nodelay(true);
                Ok(stream)
            })
            .await;
        }
    }
}

/// What every connection task of one listener shares.
struct Shared {
    auth: Option<Rc<Credentials>>,
    handler: Handler,
    executor: Weak<LocalExecutor<'static>>,
    limits: Limits,
    active: Rc<Cell<usize>>,
}

/// One connection counted against [`Limits::max_connections`] while it lives.
struct ConnectionSlot(Rc<Cell<usize>>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

async fn accept_loop<Stream, Accepting>(shared: &Shared, mut accept: impl FnMut() -> Accepting)
where
    Stream: AsyncRead + AsyncWrite + AsFd + Unpin + 'static,
    Accepting: Future<Output = io::Result<Stream>>,
{
    loop {
        let stream = match accept().await {
            Ok(stream) => stream,
            Err(error) => {
                // Out of descriptors or memory: accept would fail again at once.
                if matches!(
                    error.raw_os_error(),
                    Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                ) {
                    smol::Timer::after(ACCEPT_BACKOFF).await;
                }
                continue;
            }
        };
        if shared.active.get() >= shared.limits.max_connections {
            drop(stream);
            continue;
        }
        let Some(executor) = shared.executor.upgrade() else {
            return;
        };
        shared.active.set(shared.active.get() + 1);
        let slot = ConnectionSlot(Rc::clone(&shared.active));
        let connection = serve_connection(
            stream,
            shared.auth.clone(),
            Rc::clone(&shared.handler),
            shared.limits,
        );
        executor
            .spawn(async move {
                connection.await;
                drop(slot);
            })
            .detach();
    }
}

/// The client end of a connection, for responses that stream: every request a [`Handler`]
/// gets carries one in its extensions.
///
/// hyper notices that a client went away only when it reads or writes, and while a response
/// is being written it stops reading as soon as anything is left in its read buffer (the
/// real `supervisorctl tail -f` sends a stray CRLF after its request). A streaming body that
/// may have nothing to write for a long time (a `tail -f` of an idle log) asks
/// [`Peer::hung_up`] and ends itself, which lets hyper close the connection.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The connection's socket; -1 once the connection is over.
    fd: Arc<AtomicI32>,
}

impl Peer {
    /// Whether the client closed its end (or the connection is over). Never blocks.
    pub fn hung_up(&self) -> bool {
        let fd = self.fd.load(Ordering::Relaxed);
        if fd < 0 {
            return true;
        }
        let mut pollfd = libc::pollfd {
            fd,
            events: libc::POLLRDHUP,
            revents: 0,
        };
        // SAFETY: poll(2) reads and writes only the one pollfd passed. `fd` is the socket of a
        // live connection: `ConnectionOver` sets -1 right after the connection drops its
        // socket, with no await in between, on a single-threaded executor; so a descriptor
        // number recycled by a later open is never polled.
        let ready = unsafe { libc::poll(&mut pollfd, 1, 0) };
        ready > 0 && pollfd.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
    }
}

/// Marks a connection's [`Peer`] as over when the connection ends.
struct ConnectionOver(Arc<AtomicI32>);

impl Drop for ConnectionOver {
    fn drop(&mut self) {
        self.0.store(-1, Ordering::Relaxed);
    }
}

/// Serves one connection with hyper until it closes; errors end only this connection.
async fn serve_connection<Stream>(
    stream: Stream,
    auth: Option<Rc<Credentials>>,
    handler: Handler,
    limits: Limits,
) where
    Stream: AsyncRead + AsyncWrite + AsFd + Unpin + 'static,
{
    let socket: RawFd = stream.as_fd().as_raw_fd();
    let peer = Peer {
        fd: Arc::new(AtomicI32::new(socket)),
    };
    // Declared before the connection, so dropped after it (and its socket).
    let _over = ConnectionOver(Arc::clone(&peer.fd));
    let timer = ConnectionTimer::new(limits.keep_alive_idle);
    let io = FuturesIo::new(CountingIo {
        inner: stream,
        activity: Arc::clone(&timer.activity),
    });
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let auth = auth.clone();
        let handler = Rc::clone(&handler);
        request.extensions_mut().insert(peer.clone());
        async move { Ok::<_, Infallible>(respond(auth.as_deref(), &handler, request).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(timer)
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .max_buf_size(MAX_BUFFER_BYTES)
        .keep_alive(true)
        .title_case_headers(true);
    // A client's protocol error, reset or timeout ends its connection and nothing else.
    let _ = builder.serve_connection(io, service).await;
}

/// Authenticates `request`, then hands it to `handler`.
async fn respond(
    auth: Option<&Credentials>,
    handler: &Handler,
    request: Request<Incoming>,
) -> Response<Body> {
    if let Some(credentials) = auth {
        match authorize(credentials, request.headers()) {
            Authorization::Granted => {}
            Authorization::Denied => return unauthorized(),
            Authorization::Malformed => return error_response(StatusCode::BAD_REQUEST),
        }
    }
    handler(request).await
}

/// The outcome of checking a request's `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authorization {
    Granted,
    /// Missing, another scheme, or wrong credentials: 401.
    Denied,
    /// `Basic` with a value that is not base64 of UTF-8: 400 (Medusa's "malformed
    /// authorization info").
    Malformed,
}

/// Medusa's `auth_handler` with supervisord's `encrypted_dictionary_authorizer`: the scheme
/// is the text before the first space (any case), the rest is base64 of `user:password`,
/// split at the first `:`.
fn authorize(credentials: &Credentials, headers: &HeaderMap) -> Authorization {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Authorization::Denied;
    };
    let value = value.as_bytes();
    let Some(space) = value.iter().position(|byte| *byte == b' ') else {
        return Authorization::Denied;
    };
    let (scheme, cookie) = (&value[..space], &value[space + 1..]);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return Authorization::Denied;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(cookie.trim_ascii()) else {
        return Authorization::Malformed;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return Authorization::Malformed;
    };
    let Some((username, password)) = decoded.split_once(':') else {
        return Authorization::Denied;
    };
    let username_matches = constant_time_eq(username.as_bytes(), credentials.username.as_bytes());
    // Both comparisons always run: `&`, not `&&`.
    if username_matches & password_matches(&credentials.password, password) {
        Authorization::Granted
    } else {
        Authorization::Denied
    }
}

/// A configured password is plain text, or `{SHA}` and the lower-case hex SHA-1 of the
/// password (compared as written, as supervisord does).
fn password_matches(configured: &str, given: &str) -> bool {
    match configured.strip_prefix("{SHA}") {
        Some(hex) => {
            let digest = sha1::Sha1::digest(given.as_bytes());
            let given_hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
            constant_time_eq(hex.as_bytes(), given_hex.as_bytes())
        }
        None => constant_time_eq(configured.as_bytes(), given.as_bytes()),
    }
}

/// Equality whose time depends on the lengths only, not on where the inputs differ.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    let mut difference = u8::from(left.len() != right.len());
    for index in 0..left.len().max(right.len()) {
        let left_byte = left.get(index).copied().unwrap_or(0);
        let right_byte = right.get(index).copied().unwrap_or(0);
        difference |= std::hint::black_box(left_byte ^ right_byte);
    }
    difference == 0
}

/// supervisord's 401: Medusa's page with `Connection: close` and the Basic challenge.
fn unauthorized() -> Response<Body> {
    let mut response = error_response(StatusCode::UNAUTHORIZED);
    let headers = response.headers_mut();
    let length = headers.remove(header::CONTENT_LENGTH);
    let content_type = headers.remove(header::CONTENT_TYPE);
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"default\""),
    );
    headers.extend(length.map(|value| (header::CONTENT_LENGTH, value)));
    headers.extend(content_type.map(|value| (header::CONTENT_TYPE, value)));
    response
}

/// Reads a whole request body of at most `limit` bytes. Beyond it: Medusa's 413 page; no
/// new piece within [`BODY_READ_TIMEOUT`]: 408; the client gone or a bad chunk: 400. Each
/// error response closes the connection.
pub async fn read_body(mut body: Incoming, limit: usize) -> Result<Bytes, Response<Body>> {
    let fail = |status| {
        let mut response = error_response(status);
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    };
    let hint = body.size_hint();
    if usize::try_from(hint.lower()).map_or(true, |lower| lower > limit) {
        return Err(fail(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let expected = hint.exact().and_then(|exact| usize::try_from(exact).ok());
    let mut collected = BytesMut::with_capacity(expected.unwrap_or(0));
    loop {
        let next = async { Some(body.frame().await) };
        let timeout = async {
            smol::Timer::after(BODY_READ_TIMEOUT).await;
            None
        };
        match smol::future::or(next, timeout).await {
            None => return Err(fail(StatusCode::REQUEST_TIMEOUT)),
            Some(None) => return Ok(collected.freeze()),
            Some(Some(Err(_))) => return Err(fail(StatusCode::BAD_REQUEST)),
            Some(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if collected.len() + data.len() > limit {
                        return Err(fail(StatusCode::PAYLOAD_TOO_LARGE));
                    }
                    collected.extend_from_slice(&data);
                }
            }
        }
    }
}

/// Bytes read so far on one connection, shared by its [`CountingIo`] and its timer.
#[derive(Debug, Default)]
struct Activity {
    reads: AtomicU64,
    heads: AtomicU64,
}

/// The connection's stream, counting reads that returned data.
struct CountingIo<Stream> {
    inner: Stream,
    activity: Arc<Activity>,
}

impl<Stream: AsyncRead + Unpin> AsyncRead for CountingIo<Stream> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_read(context, buffer);
        if let Poll::Ready(Ok(read)) = result
            && read > 0
        {
            self.activity.reads.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

impl<Stream: AsyncWrite + Unpin> AsyncWrite for CountingIo<Stream> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(context, buffer)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(context, buffers)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_close(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(context)
    }
}

/// hyper's timer for one connection. hyper's HTTP/1 server asks for one sleep per request
/// head (its header read timeout, counted from when it starts waiting for the head); this
/// timer makes the timeout count from the head's first byte instead, and lets a keep-alive
/// connection wait [`Limits::keep_alive_idle`] for that byte (the first request of a
/// connection gets the header timeout). Sleeps are smol-hyper's [`SmolTimer`].
///
/// "First byte" means the first read after hyper started waiting for the head: the start
/// of a head that a client pipelined behind its previous request is already buffered, so a
/// client that stops in the middle of it waits out the keep-alive time, not the header time.
#[derive(Debug, Clone)]
struct ConnectionTimer {
    inner: SmolTimer,
    activity: Arc<Activity>,
    keep_alive_idle: Duration,
}

impl ConnectionTimer {
    fn new(keep_alive_idle: Duration) -> ConnectionTimer {
        ConnectionTimer {
            inner: SmolTimer::new(),
            activity: Arc::default(),
            keep_alive_idle,
        }
    }
}

impl Timer for ConnectionTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        let now = Instant::now();
        let header_timeout = deadline.saturating_duration_since(now);
        let first_head = self.activity.heads.fetch_add(1, Ordering::Relaxed) == 0;
        let idle = if first_head {
            header_timeout
        } else {
            self.keep_alive_idle
        };
        Box::pin(HeadSleep {
            sleep: self.inner.sleep_until(now + idle),
            timer: self.inner.clone(),
            activity: Arc::clone(&self.activity),
            reads_before: self.activity.reads.load(Ordering::Relaxed),
            header_timeout,
            started: false,
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        *sleep = self.sleep_until(new_deadline);
    }
}

/// A header read timeout that waits for the head's first byte, then for the head.
struct HeadSleep {
    sleep: Pin<Box<dyn Sleep>>,
    timer: SmolTimer,
    activity: Arc<Activity>,
    reads_before: u64,
    header_timeout: Duration,
    started: bool,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        // hyper polls this after each read that left the head incomplete.
        if !self.started && self.activity.reads.load(Ordering::Relaxed) != self.reads_before {
            self.started = true;
            let deadline = Instant::now() + self.header_timeout;
            let this = &mut *self;
            this.timer.reset(&mut this.sleep, deadline);
        }
        self.sleep.as_mut().poll(context)
    }
}

impl Sleep for HeadSleep {}

#[cfg(test)]
mod tests {
    use super::*;
    use smol::io::{AsyncReadExt, AsyncWriteExt};

    type Client = Async<UnixStream>;

    fn unix_server(dir: &Path, chmod: u32) -> UnixHttpServer {
        UnixHttpServer {
            name: None,
            file: dir.join("supervisor.sock").display().to_string(),
            chmod,
            chown: None,
            auth: None,
            origin: Default::default(),
        }
    }

    fn credentials(password: &str) -> Credentials {
        Credentials {
            username: "user".into(),
            password: password.into(),
        }
    }

    fn inode(path: &Path) -> u64 {
        std::fs::symlink_metadata(path).unwrap().ino()
    }

    /// Answers `<method> <path> <body>`; reads at most 16 body bytes.
    fn echo_handler() -> Handler {
        Rc::new(|request: Request<Incoming>| {
            Box::pin(async move {
                let line = format!("{} {} ", request.method(), request.uri().path());
                match read_body(request.into_body(), 16).await {
                    Ok(body) => Response::new(full([line.as_bytes(), &body].concat())),
                    Err(response) => response,
                }
            })
        })
    }

    /// A served unix socket in a temp dir; the test's client code runs on the same
    /// executor as the server.
    struct TestServer {
        _dir: tempfile::TempDir,
        path: PathBuf,
        executor: Rc<LocalExecutor<'static>>,
    }

    impl TestServer {
        fn start(auth: Option<Credentials>, limits: Limits) -> TestServer {
            let dir = tempfile::tempdir().unwrap();
            let server = unix_server(dir.path(), 0o700);
            let listener = Listener::bind_unix(&server).unwrap();
            let executor = Rc::new(LocalExecutor::new());
            let serving = serve_with(
                listener,
                auth,
                echo_handler(),
                Rc::downgrade(&executor),
                limits,
            );
            executor.spawn(serving).detach();
            TestServer {
                _dir: dir,
                path: PathBuf::from(server.file),
                executor,
            }
        }

        fn run<T>(&self, future: impl Future<Output = T>) -> T {
            smol::block_on(self.executor.run(future))
        }

        async fn connect(&self) -> Client {
            Async::<UnixStream>::connect(&self.path).await.unwrap()
        }
    }

    #[derive(Debug)]
    struct Reply {
        status_line: String,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Reply {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }

        fn names(&self) -> Vec<&str> {
            self.headers.iter().map(|(key, _)| key.as_str()).collect()
        }
    }

    async fn exchange(client: &mut Client, request: &str) -> Reply {
        client.write_all(request.as_bytes()).await.unwrap();
        read_reply(client).await
    }

    /// Reads one response with a `Content-Length`.
    async fn read_reply(client: &mut Client) -> Reply {
        let mut buffer = Vec::new();
        let head_end = loop {
            if let Some(at) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 4096];
            let read = client.read(&mut chunk).await.unwrap();
            assert!(read > 0, "closed before a response head: {buffer:?}");
            buffer.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8(buffer[..head_end - 4].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap().to_string();
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (key, value) = line.split_once(": ").unwrap();
                (key.to_string(), value.to_string())
            })
            .collect();
        let reply = Reply {
            status_line,
            headers,
            body: String::new(),
        };
        let length: usize = reply.header("content-length").unwrap().parse().unwrap();
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            let read = client.read(&mut chunk).await.unwrap();
            assert!(read > 0, "closed inside a body");
            buffer.extend_from_slice(&chunk[..read]);
        }
        Reply {
            body: String::from_utf8(buffer[head_end..head_end + length].to_vec()).unwrap(),
            ..reply
        }
    }

    /// Reads until the server closes; true if it closed without sending anything.
    async fn closed_silently(client: &mut Client) -> bool {
        let mut rest = Vec::new();
        // A reset counts as closed.
        let _ = client.read_to_end(&mut rest).await;
        rest.is_empty()
    }

    fn basic(user_password: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(user_password)
    }

    fn post(authorization: Option<&str>) -> String {
        let authorization = authorization
            .map(|value| format!("Authorization: {value}\r\n"))
            .unwrap_or_default();
        format!("POST /RPC2 HTTP/1.1\r\nHost: x\r\n{authorization}Content-Length: 4\r\n\r\nping")
    }

    const UNAUTHORIZED_PAGE: &str = "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code 401.\r\n<p>Message: Unauthorized.\r\n</body>\r\n";

    #[test]
    fn unix_socket_has_exactly_the_chmod_mode() {
        for chmod in [0o700, 0o760, 0o777, 0o600] {
            let dir = tempfile::tempdir().unwrap();
            let server = unix_server(dir.path(), chmod);
            let listener = Listener::bind_unix(&server).unwrap();
            let metadata = std::fs::symlink_metadata(&server.file).unwrap();
            assert!(metadata.file_type().is_socket());
            assert_eq!(metadata.permissions().mode() & 0o7777, chmod);
            let temporary = format!("{}.{}", server.file, std::process::id());
            assert!(
                !Path::new(&temporary).exists(),
                "temporary name left behind"
            );
            drop(listener);
        }
    }

    #[test]
    fn socket_created_before_bind_is_never_looser_than_chmod() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.sock");
        let _listener = bind_private(&path, 0o600).unwrap();
        let mode = std::fs::symlink_metadata(&path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o} is looser than 0600");
    }

    #[test]
    fn stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let server = unix_server(dir.path(), 0o700);
        drop(UnixListener::bind(&server.file).unwrap());
        assert!(UnixStream::connect(&server.file).is_err(), "not stale");
        let listener = Listener::bind_unix(&server).unwrap();
        assert!(UnixStream::connect(&server.file).is_ok());
        drop(listener);
    }

    #[test]
    fn socket_in_use_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let server = unix_server(dir.path(), 0o700);
        let other = UnixListener::bind(&server.file).unwrap();
        let before = inode(Path::new(&server.file));
        // The other program reads the probe and answers it.
        let answering = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut stream, _) = other.accept().unwrap();
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                stream.read_exact(&mut byte).unwrap();
                request.push(byte[0]);
            }
            assert_eq!(request, b"GET / HTTP/1.0\r\n\r\n");
            stream.write_all(b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
        });
        let error = Listener::bind_unix(&server).unwrap_err();
        answering.join().unwrap();
        assert_eq!(error, ADDRESS_IN_USE);
        assert_eq!(inode(Path::new(&server.file)), before);
        let temporary = format!("{}.{}", server.file, std::process::id());
        assert!(!Path::new(&temporary).exists());
    }

    #[test]
    fn file_that_is_not_a_socket_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let server = unix_server(dir.path(), 0o700);
        std::fs::write(&server.file, "data").unwrap();
        let error = Listener::bind_unix(&server).unwrap_err();
        assert_eq!(
            error,
            format!(
                "Cannot open an HTTP server: {} exists and is not a socket",
                server.file
            )
        );
        assert_eq!(std::fs::read_to_string(&server.file).unwrap(), "data");
    }

    #[test]
    fn socket_is_removed_on_drop_only_if_still_ours() {
        let dir = tempfile::tempdir().unwrap();
        let server = unix_server(dir.path(), 0o700);
        drop(Listener::bind_unix(&server).unwrap());
        assert!(!Path::new(&server.file).exists());

        let listener = Listener::bind_unix(&server).unwrap();
        std::fs::remove_file(&server.file).unwrap();
        std::fs::write(&server.file, "someone else's").unwrap();
        drop(listener);
        assert!(Path::new(&server.file).exists());
    }

    #[test]
    fn socket_is_removed_when_the_serving_executor_is_dropped() {
        let server = TestServer::start(None, Limits::DEFAULT);
        let path = server.path.clone();
        server.run(async {
            let mut client = server.connect().await;
            let reply = exchange(&mut client, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n").await;
            assert_eq!(reply.body, "GET /a ");
        });
        assert!(path.exists());
        drop(server.executor);
        assert!(!path.exists());
    }

    #[test]
    fn unix_path_too_long_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = unix_server(dir.path(), 0o700);
        server.file = format!("{}/{}.sock", dir.path().display(), "s".repeat(120));
        assert_eq!(
            Listener::bind_unix(&server).unwrap_err(),
            "Cannot open an HTTP server: socket.error reported AF_UNIX path too long"
        );
    }

    #[test]
    fn missing_directory_is_an_errno() {
        let dir = tempfile::tempdir().unwrap();
        let server = unix_server(&dir.path().join("missing"), 0o700);
        assert_eq!(
            Listener::bind_unix(&server).unwrap_err(),
            "Cannot open an HTTP server: socket.error reported errno.ENOENT (2)"
        );
    }

    #[test]
    fn chown_by_name_and_by_id() {
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::effective())
            .unwrap()
            .unwrap();
        let group = nix::unistd::Group::from_gid(nix::unistd::Gid::effective())
            .unwrap()
            .unwrap();
        for (owner_user, owner_group) in [
            (user.name.clone(), Some(group.name.clone())),
            (user.uid.to_string(), Some(group.gid.to_string())),
            (user.name.clone(), None),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let mut server = unix_server(dir.path(), 0o700);
            server.chown = Some(OwnerSpec {
                user: owner_user,
                group: owner_group,
            });
            let _listener = Listener::bind_unix(&server).unwrap();
            let metadata = std::fs::symlink_metadata(&server.file).unwrap();
            assert_eq!(metadata.uid(), user.uid.as_raw());
            assert_eq!(metadata.gid(), group.gid.as_raw());
        }
    }

    #[test]
    fn unknown_chown_user_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = unix_server(dir.path(), 0o700);
        server.chown = Some(OwnerSpec {
            user: "no-such-user-svc".into(),
            group: Some("wheel".into()),
        });
        assert_eq!(
            Listener::bind_unix(&server).unwrap_err(),
            "Invalid sockchown value no-such-user-svc:wheel"
        );
        assert!(!Path::new(&server.file).exists());
    }

    #[test]
    fn chown_refused_is_supervisords_message() {
        assert_eq!(
            chown_refused(Path::new("/tmp/s.sock"), 1000, None, "nobody"),
            "Not permitted to chown /tmp/s.sock to uid/gid (1000, -1); adjust \"sockchown\" value in config file or on command line to values that the current user (nobody) can successfully chown"
        );
        assert!(chown_refused(Path::new("/s"), 0, Some(0), "x").contains("uid/gid (0, 0);"));
    }

    fn inet_server(host: &str, port: u16) -> InetHttpServer {
        InetHttpServer {
            name: None,
            host: host.into(),
            port,
            auth: None,
            origin: Default::default(),
        }
    }

    #[test]
    fn inet_binds_host_and_port() {
        let Listener::Tcp(listener) = Listener::bind_inet(&inet_server("127.0.0.1", 0)).unwrap()
        else {
            panic!("not a TCP listener");
        };
        assert_eq!(listener.local_addr().unwrap().ip().to_string(), "127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        assert_eq!(
            Listener::bind_inet(&inet_server("localhost", port)).unwrap_err(),
            ADDRESS_IN_USE
        );
    }

    #[test]
    fn inet_empty_host_and_star_bind_every_interface() {
        for host in ["", "*"] {
            let Listener::Tcp(listener) = Listener::bind_inet(&inet_server(host, 0)).unwrap()
            else {
                panic!("not a TCP listener");
            };
            assert!(listener.local_addr().unwrap().ip().is_unspecified());
        }
    }

    #[test]
    fn inet_unresolvable_host_reports_the_getaddrinfo_code() {
        let error = Listener::bind_inet(&inet_server("no-such-host.invalid", 0)).unwrap_err();
        assert!(
            error.starts_with("Cannot open an HTTP server: socket.error reported -"),
            "{error}"
        );
    }

    #[test]
    fn handler_gets_the_request_over_tcp() {
        let Listener::Tcp(listener) = Listener::bind_inet(&inet_server("127.0.0.1", 0)).unwrap()
        else {
            panic!("not a TCP listener");
        };
        let address = listener.local_addr().unwrap();
        let executor = Rc::new(LocalExecutor::new());
        executor
            .spawn(serve(
                Listener::Tcp(listener),
                None,
                echo_handler(),
                Rc::clone(&executor),
            ))
            .detach();
        let response = smol::block_on(executor.run(async {
            let mut client = Async::<std::net::TcpStream>::connect(address)
                .await
                .unwrap();
            client
                .write_all(b"POST /RPC2 HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello")
                .await
                .unwrap();
            let mut response = String::new();
            client.read_to_string(&mut response).await.unwrap();
            response
        }));
        assert!(response.starts_with("HTTP/1.0 200 OK\r\n"), "{response}");
        assert!(response.ends_with("\r\n\r\nPOST /RPC2 hello"), "{response}");
    }

    #[test]
    fn keep_alive_serves_several_requests_on_one_connection() {
        let server = TestServer::start(None, Limits::DEFAULT);
        server.run(async {
            let mut client = server.connect().await;
            for path in ["/one", "/two", "/three"] {
                let request =
                    format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
                let reply = exchange(&mut client, &request).await;
                assert_eq!(reply.status_line, "HTTP/1.1 200 OK");
                assert_eq!(reply.body, format!("POST {path} hi"));
            }
        });
    }

    #[test]
    fn body_over_the_limit_is_413() {
        let server = TestServer::start(None, Limits::DEFAULT);
        server.run(async {
            let mut client = server.connect().await;
            let body = "x".repeat(17);
            let request = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n{body}");
            let reply = exchange(&mut client, &request).await;
            assert_eq!(reply.status_line, "HTTP/1.1 413 Request Entity Too Large");
            assert_eq!(reply.header("connection"), Some("close"));
            assert!(reply.body.contains("<p>Error code 413.\r\n<p>Message: Request Entity Too Large.\r\n"));

            // Chunked: the size is known only while reading.
            let mut client = server.connect().await;
            let request = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n\r\n";
            let reply = exchange(&mut client, request).await;
            assert_eq!(reply.status_line, "HTTP/1.1 413 Request Entity Too Large");
        });
    }

    #[test]
    fn plain_password_is_accepted() {
        let server = TestServer::start(Some(credentials("p:ss")), Limits::DEFAULT);
        server.run(async {
            let mut client = server.connect().await;
            let header = format!("Basic {}", basic("user:p:ss"));
            let reply = exchange(&mut client, &post(Some(&header))).await;
            assert_eq!(reply.status_line, "HTTP/1.1 200 OK");
            assert_eq!(reply.body, "POST /RPC2 ping");
            // The scheme is case-insensitive.
            let header = format!("bAsIc {}", basic("user:p:ss"));
            let reply = exchange(&mut client, &post(Some(&header))).await;
            assert_eq!(reply.status_line, "HTTP/1.1 200 OK");
        });
    }

    #[test]
    fn sha_password_is_accepted() {
        // sha1("password")
        let configured = "{SHA}5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8";
        let server = TestServer::start(Some(credentials(configured)), Limits::DEFAULT);
        server.run(async {
            let mut client = server.connect().await;
            let header = format!("Basic {}", basic("user:password"));
            let reply = exchange(&mut client, &post(Some(&header))).await;
            assert_eq!(reply.status_line, "HTTP/1.1 200 OK");

            // The hash itself is not the password.
            let mut client = server.connect().await;
            let header = format!("Basic {}", basic(&format!("user:{configured}")));
            let reply = exchange(&mut client, &post(Some(&header))).await;
            assert_eq!(reply.status_line, "HTTP/1.1 401 Unauthorized");
        });
    }

    #[test]
    fn sha_password_compares_hex_as_written() {
        assert!(password_matches(
            "{SHA}5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",
            "password"
        ));
        // supervisord compares with hexdigest(), which is lower case.
        assert!(!password_matches(
            "{SHA}5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8",
            "password"
        ));
        assert!(!password_matches("{sha}password", "{sha}Password"));
        assert!(password_matches("{sha}password", "{sha}password"));
    }

    fn assert_unauthorized(reply: &Reply) {
        assert_eq!(reply.status_line, "HTTP/1.1 401 Unauthorized");
        assert_eq!(
            reply.names(),
            [
                "Connection",
                "Www-Authenticate",
                "Content-Length",
                "Content-Type",
                "Date"
            ]
        );
        assert_eq!(reply.header("connection"), Some("close"));
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Basic realm=\"default\"")
        );
        assert_eq!(reply.header("content-length"), Some("137"));
        assert_eq!(reply.header("content-type"), Some("text/html"));
        assert_eq!(reply.body, UNAUTHORIZED_PAGE);
    }

    #[test]
    fn wrong_or_missing_credentials_get_supervisords_401() {
        let server = TestServer::start(Some(credentials("secret")), Limits::DEFAULT);
        let wrong = [
            None,
            Some(format!("Basic {}", basic("user:wrong"))),
            Some(format!("Basic {}", basic("other:secret"))),
            Some(format!("Basic {}", basic("user:secret2"))),
            Some(format!("Basic {}", basic("usersecret"))),
            Some(format!("Bearer {}", basic("user:secret"))),
            Some("Basic".to_string()),
        ];
        server.run(async {
            for authorization in wrong {
                let mut client = server.connect().await;
                let reply = exchange(&mut client, &post(authorization.as_deref())).await;
                assert_unauthorized(&reply);
                assert!(closed_silently(&mut client).await, "{authorization:?}");
            }
        });
    }

    #[test]
    fn malformed_basic_credentials_get_400() {
        let server = TestServer::start(Some(credentials("secret")), Limits::DEFAULT);
        server.run(async {
            for cookie in ["dXNlcjpwYXNzd29yZA", "!!!", "/w=="] {
                let mut client = server.connect().await;
                let reply = exchange(&mut client, &post(Some(&format!("Basic {cookie}")))).await;
                assert_eq!(reply.status_line, "HTTP/1.1 400 Bad Request", "{cookie}");
                assert!(
                    reply
                        .body
                        .contains("<p>Error code 400.\r\n<p>Message: Bad Request.\r\n")
                );
            }
        });
    }

    #[test]
    fn constant_time_eq_compares_bytes_and_lengths() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"Secret"));
        assert!(!constant_time_eq(b"secret", b"secret\0"));
        assert!(!constant_time_eq(b"secret\0", b"secret"));
        assert!(!constant_time_eq(b"", b"\0"));
    }

    #[test]
    fn connections_beyond_the_cap_are_closed_at_once() {
        let limits = Limits {
            max_connections: 2,
            ..Limits::DEFAULT
        };
        let server = TestServer::start(None, limits);
        server.run(async {
            let mut first = server.connect().await;
            let mut second = server.connect().await;
            let mut third = server.connect().await;
            assert!(closed_silently(&mut third).await);
            for client in [&mut first, &mut second] {
                let reply = exchange(client, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").await;
                assert_eq!(reply.body, "GET /ok ");
            }
            // Once one closes, a new connection is served again.
            let reply = exchange(
                &mut first,
                "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            assert_eq!(reply.status_line, "HTTP/1.1 200 OK");
            assert!(closed_silently(&mut first).await);
            let mut fourth = server.connect().await;
            let reply = exchange(&mut fourth, "GET /4 HTTP/1.1\r\nHost: x\r\n\r\n").await;
            assert_eq!(reply.body, "GET /4 ");
        });
    }

    #[test]
    fn over_long_header_gets_431_and_serving_goes_on() {
        let server = TestServer::start(None, Limits::DEFAULT);
        server.run(async {
            let mut client = server.connect().await;
            let filler = "a".repeat(MAX_HEADER_BYTES + 1);
            let request = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\n\r\n");
            // The server may answer and close before reading everything we send.
            let _ = client.write_all(request.as_bytes()).await;
            let mut response = Vec::new();
            let _ = client.read_to_end(&mut response).await;
            let response = String::from_utf8_lossy(&response);
            assert!(
                response.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
                "{response}"
            );

            let mut client = server.connect().await;
            let reply = exchange(&mut client, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n").await;
            assert_eq!(reply.body, "GET /after ");
        });
    }

    #[test]
    fn slow_heads_are_cut_but_idle_keep_alive_connections_are_not() {
        let limits = Limits {
            header_read_timeout: Duration::from_millis(50),
            ..Limits::DEFAULT
        };
        let server = TestServer::start(None, limits);
        server.run(async {
            let mut idle = server.connect().await;
            let reply = exchange(&mut idle, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n").await;
            assert_eq!(reply.body, "GET /1 ");

            // A head that never ends, and a new connection that never sends one.
            let mut slow = server.connect().await;
            slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
            assert!(closed_silently(&mut slow).await);
            let mut silent = server.connect().await;
            assert!(closed_silently(&mut silent).await);

            // `idle` has now been idle longer than the header timeout, and is still served.
            let reply = exchange(&mut idle, "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n").await;
            assert_eq!(reply.body, "GET /2 ");
        });
    }

    #[test]
    fn error_response_is_medusas_page() {
        let response = error_response(StatusCode::NOT_FOUND);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-length"], "134");
        assert!(
            response
                .extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .is_none()
        );
        let response = error_response(StatusCode::PAYLOAD_TOO_LARGE);
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .unwrap();
        assert_eq!(reason.as_bytes(), b"Request Entity Too Large");
    }
}
