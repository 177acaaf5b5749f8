//! The transport: XML-RPC calls and `tail -f` streams to supervisord over HTTP/1.1, on a
//! unix socket (`unix:///path`) or TCP (`http://host:port`), as supervisor's
//! `SupervisorTransport` and `http_client.HTTPHandler` do.
//!
//! - A call is `POST /RPC2` with `Content-Type: text/xml`, basic auth when both a username
//!   and a password are set, the body built by dxr; a 200 response is a value or a fault,
//!   any other status is `ProtocolError`. One connection per call.
//! - A follow is `GET <path>` (basic auth when the password is not empty, as
//!   `HTTPHandler` decides) whose body is handed to a sink chunk by chunk until the server
//!   ends it.
//! - Failures are the [`Exception`]s Python's client raises for them, so commands can catch
//!   what supervisorctl catches (a refused connection, a missing socket file) and print the
//!   rest as supervisorctl does.
//!
//! hyper's client runs over smol's sockets on the calling thread; the connection future is
//! polled next to the exchange, never spawned.
//!
//! **Invariant:** nothing here prints; callers decide what a failure looks like.

use std::path::PathBuf;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use smol::future::FutureExt as _;
use smol::io::{AsyncRead, AsyncWrite};
use smol_hyper::rt::FuturesIo;

use super::exception::{Exception, Site};

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Unix(PathBuf),
    Tcp { host: String, port: u16 },
}

/// A server URL and the credentials to use with it.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    serverurl: String,
    endpoint: Endpoint,
    username: Option<String>,
    password: Option<String>,
}

/// Why a follow (`tail -f`) stopped early; `HTTPHandler` reports both on stderr.
#[derive(Debug)]
pub(crate) enum FollowError {
    /// The server answered with another status than 200.
    Status(u16),
    /// The connection failed.
    Connect(Exception),
}

impl Client {
    /// A client for `serverurl`; `ValueError` (as `SupervisorTransport`'s constructor) for a
    /// URL that is neither `http://` nor `unix://`, or whose port is not a port.
    pub(crate) fn new(
        serverurl: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<Client, Exception> {
        Ok(Client {
            serverurl: serverurl.to_string(),
            endpoint: endpoint(serverurl)?,
            username: username.map(str::to_string),
            password: password.map(str::to_string),
        })
    }

    /// `serverurl` as given (supervisorctl's messages quote it).
    pub(crate) fn serverurl(&self) -> &str {
        &self.serverurl
    }

    /// Calls `method` with `params`; the value of a 200 response, or the failure.
    pub(crate) async fn call(
        &self,
        method: &str,
        params: Vec<dxr::Value>,
    ) -> Result<dxr::Value, Exception> {
        let call = dxr::MethodCall {
            name: method.into(),
            params,
        };
        let body = call.to_xml().map_err(|error| Exception::Other {
            class: "TypeError",
            message: error.to_string(),
            site: Site::INT_LIMITS,
        })?;
        let mut request = Request::post("/RPC2")
            .header(hyper::header::HOST, self.host_header())
            .header(hyper::header::CONTENT_TYPE, "text/xml")
            .header(hyper::header::ACCEPT, "text/xml")
            .header(
                hyper::header::USER_AGENT,
                concat!("svc/", env!("CARGO_PKG_VERSION")),
            );
        if let (Some(username), Some(password)) = (&self.username, &self.password) {
            request = request.header(hyper::header::AUTHORIZATION, basic(username, password));
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| other_error(&error.to_string()))?;
        self.exchange(request, async |response: Response<Incoming>| {
            let status = response.status();
            if status != hyper::StatusCode::OK {
                return Err(Exception::Protocol {
                    status: status.as_u16(),
                    reason: reason(&response),
                });
            }
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|error| hyper_error(&error))?
                .to_bytes();
            parse_response(&body)
        })
        .await
        .and_then(|result| result)
    }

    /// `GET path`, handing each piece of the body to `sink` until the server ends it.
    pub(crate) async fn follow(
        &self,
        path: &str,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), FollowError> {
        let mut request = Request::get(encode_path(path))
            .header(hyper::header::HOST, self.host_header())
            .header(hyper::header::ACCEPT, "*/*")
            .header(hyper::header::USER_AGENT, "Supervisor HTTP Client");
        if let Some(password) = self.password.as_deref().filter(|p| !p.is_empty()) {
            // `HTTPHandler` formats a missing username as Python's `None`.
            let username = self.username.as_deref().unwrap_or("None");
            request = request.header(hyper::header::AUTHORIZATION, basic(username, password));
        }
        let request = request
            .body(Full::new(Bytes::new()))
            .map_err(|error| FollowError::Connect(other_error(&error.to_string())))?;
        let outcome = self
            .exchange(request, async |response: Response<Incoming>| {
                let status = response.status();
                if status != hyper::StatusCode::OK {
                    return Ok(Err(FollowError::Status(status.as_u16())));
                }
                let mut body = response.into_body();
                while let Some(frame) = body.frame().await {
                    match frame {
                        Ok(frame) => {
                            if let Some(data) = frame.data_ref() {
                                sink(data);
                            }
                        }
                        // The server went away: the stream simply ends, as asyncore's does.
                        Err(_) => break,
                    }
                }
                Ok(Ok(()))
            })
            .await;
        match outcome {
            Ok(Ok(result)) => result,
            Ok(Err(error)) | Err(error) => Err(FollowError::Connect(error)),
        }
    }

    /// `Host:` as Python's `http.client` sends it (`localhost` on a unix socket).
    fn host_header(&self) -> String {
        match &self.endpoint {
            Endpoint::Unix(_) => "localhost".into(),
            Endpoint::Tcp { host, port: 80 } => host_literal(host),
            Endpoint::Tcp { host, port } => format!("{}:{port}", host_literal(host)),
        }
    }

    /// Connects, sends `request` and lets `handle` read the response while the connection
    /// is driven. The outer error is the connection's (`ConnectionRefusedError`, ...).
    async fn exchange<T>(
        &self,
        request: Request<Full<Bytes>>,
        handle: impl AsyncFnOnce(Response<Incoming>) -> Result<T, Exception>,
    ) -> Result<Result<T, Exception>, Exception> {
        match &self.endpoint {
            Endpoint::Unix(path) => {
                let stream = smol::net::unix::UnixStream::connect(path)
                    .await
                    .map_err(|error| Exception::from_io(&error, Site::UNIX_CONNECT))?;
                Ok(over(stream, request, handle).await)
            }
            Endpoint::Tcp { host, port } => {
                let stream = connect_tcp(host, *port).await?;
                Ok(over(stream, request, handle).await)
            }
        }
    }
}

/// Runs one HTTP/1.1 exchange over `stream`.
async fn over<S, T>(
    stream: S,
    request: Request<Full<Bytes>>,
    handle: impl AsyncFnOnce(Response<Incoming>) -> Result<T, Exception>,
) -> Result<T, Exception>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(FuturesIo::new(stream))
        .await
        .map_err(|error| hyper_error(&error))?;
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| hyper_error(&error))?;
        handle(response).await
    };
    // The connection must be polled for the exchange to progress; once it ends (the
    // server closed it), the exchange sees the end through hyper's channels.
    let drive = async move {
        let _ = connection.await;
        std::future::pending::<Result<T, Exception>>().await
    };
    exchange.or(drive).await
}

/// `socket.create_connection`: every address of `host` in turn; the first failure if none
/// accepts.
async fn connect_tcp(host: &str, port: u16) -> Result<smol::net::TcpStream, Exception> {
    let addresses = smol::net::resolve((host, port))
        .await
        .map_err(|_| Exception::Os {
            errno: -2,
            site: Site::RESOLVE,
        })?;
    let mut first_error = None;
    for address in addresses {
        match smol::net::TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(match first_error {
        Some(error) => Exception::from_io(&error, Site::TCP_CONNECT),
        None => Exception::Other {
            class: "OSError",
            message: "getaddrinfo returns an empty list".into(),
            site: Site::RESOLVE,
        },
    })
}

/// `SupervisorTransport`'s choice of connection for a server URL.
fn endpoint(serverurl: &str) -> Result<Endpoint, Exception> {
    if let Some(rest) = serverurl.strip_prefix("http://") {
        let (host, port) = host_and_port(rest)?;
        return Ok(Endpoint::Tcp {
            host,
            port: port.unwrap_or(80),
        });
    }
    if let Some(path) = serverurl.strip_prefix("unix://") {
        return Ok(Endpoint::Unix(PathBuf::from(path)));
    }
    Err(Exception::Other {
        class: "ValueError",
        message: format!("Unknown protocol for serverurl {serverurl}"),
        site: Site::UNKNOWN_PROTOCOL,
    })
}

/// `urlparse(url).hostname` and `.port` of what follows `http://`.
fn host_and_port(rest: &str) -> Result<(String, Option<u16>), Exception> {
    let netloc = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, host)| host);
    let (host, port) = if let Some(bracketed) = hostinfo.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').unwrap_or((bracketed, ""));
        (host, after.strip_prefix(':'))
    } else {
        match hostinfo.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostinfo, None),
        }
    };
    let port = match port.filter(|port| !port.is_empty()) {
        None => None,
        Some(text) if text.bytes().all(|b| b.is_ascii_digit()) => match text.parse::<u16>() {
            Ok(port) => Some(port),
            Err(_) => {
                return Err(Exception::Other {
                    class: "ValueError",
                    message: "Port out of range 0-65535".into(),
                    site: Site::URL_PORT_RANGE,
                });
            }
        },
        Some(text) => {
            return Err(Exception::Other {
                class: "ValueError",
                message: format!(
                    "Port could not be cast to integer value as {}",
                    super::exception::py_repr(text)
                ),
                site: Site::URL_PORT,
            });
        }
    };
    Ok((host.to_lowercase(), port))
}

/// An IPv6 address goes back into brackets in `Host:`.
fn host_literal(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `Authorization: Basic ...`.
fn basic(username: &str, password: &str) -> String {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {encoded}")
}

/// Percent-encodes what may not appear raw in a request target (supervisorctl sends process
/// names as they are; a space would make the request line invalid).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~:*@!$&'()+,;=%".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The reason phrase the server sent, or the standard one.
fn reason(response: &Response<Incoming>) -> String {
    match response.extensions().get::<hyper::ext::ReasonPhrase>() {
        Some(phrase) => String::from_utf8_lossy(phrase.as_bytes()).into_owned(),
        None => response
            .status()
            .canonical_reason()
            .unwrap_or_default()
            .to_string(),
    }
}

/// Python's `xmlrpc.client` view of a response body: a value, a fault, or a parse error.
fn parse_response(body: &[u8]) -> Result<dxr::Value, Exception> {
    // Expat normalizes line ends in character data before decoding references.
    let text = String::from_utf8_lossy(body)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    if let Ok(response) = dxr::MethodResponse::from_xml(&text) {
        return Ok(response.value);
    }
    if let Ok(fault) = dxr::FaultResponse::from_xml(&text) {
        return Err(Exception::Fault {
            code: fault.fault.code(),
            string: fault.fault.string().to_string(),
        });
    }
    Err(Exception::Other {
        class: "xml.parsers.expat.ExpatError",
        message: "not well-formed (invalid token)".into(),
        site: Site::XML_PARSE,
    })
}

/// A failure hyper reports, as the exception `http.client` raises for it.
fn hyper_error(error: &hyper::Error) -> Exception {
    if error.is_incomplete_message() {
        return Exception::Other {
            class: "http.client.RemoteDisconnected",
            message: "Remote end closed connection without response".into(),
            site: Site::NO_RESPONSE,
        };
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return Exception::from_io(io, Site::NO_RESPONSE);
        }
        source = cause.source();
    }
    other_error(&error.to_string())
}

fn other_error(message: &str) -> Exception {
    Exception::Other {
        class: "http.client.HTTPException",
        message: message.to_string(),
        site: Site::NO_RESPONSE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_as_supervisor_transport_reads_them() {
        assert_eq!(
            endpoint("unix:///tmp/s.sock"),
            Ok(Endpoint::Unix("/tmp/s.sock".into()))
        );
        assert_eq!(
            endpoint("http://user:pw@LocalHost:9001/RPC2"),
            Ok(Endpoint::Tcp {
                host: "localhost".into(),
                port: 9001
            })
        );
        assert_eq!(
            endpoint("http://[::1]"),
            Ok(Endpoint::Tcp {
                host: "::1".into(),
                port: 80
            })
        );
        let unknown = endpoint("https://x").unwrap_err();
        assert_eq!(
            unknown.message(),
            "Unknown protocol for serverurl https://x"
        );
        let port = endpoint("http://h:x1").unwrap_err();
        assert_eq!(
            port.message(),
            "Port could not be cast to integer value as 'x1'"
        );
        assert_eq!(
            endpoint("http://h:70000").unwrap_err().message(),
            "Port out of range 0-65535"
        );
    }

    #[test]
    fn faults_and_values_are_told_apart() {
        let value = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n\
                     <value><string>a\r\nb</string></value>\n</param>\n</params>\n</methodResponse>\n";
        assert_eq!(
            parse_response(value.as_bytes()),
            Ok(dxr::Value::String("a\nb".into()))
        );
        let fault = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n\
                     <member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n\
                     <member>\n<name>faultString</name>\n<value><string>BAD_NAME: x</string></value>\n</member>\n\
                     </struct></value>\n</fault>\n</methodResponse>\n";
        assert_eq!(
            parse_response(fault.as_bytes()),
            Err(Exception::Fault {
                code: 10,
                string: "BAD_NAME: x".into()
            })
        );
    }

    #[test]
    fn request_targets_keep_namespecs_readable() {
        assert_eq!(encode_path("/logtail/g:p/stdout"), "/logtail/g:p/stdout");
        assert_eq!(encode_path("/logtail/a b"), "/logtail/a%20b");
    }
}
