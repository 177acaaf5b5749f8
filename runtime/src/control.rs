//! The control plane's wiring: binds the `[unix_http_server]` and `[inet_http_server]`
//! listeners (before daemonizing, as supervisord does, so a port in use refuses to start)
//! and routes their requests.
//!
//! Routes, checked in supervisord's order (`supervisor/http.py make_http_servers`), each a
//! prefix of the path unless it says otherwise: `/RPC2` (XML-RPC, `POST` only),
//! `/logtail` and `/mainlogtail` (`logtail`), then the web pages `/`, `/index.html`,
//! `/tail.html` and `/ok.html`, exactly (`web`); anything else is `404`.
//!
//! **Invariant:** every route runs after the HTTP layer checked the credentials.

use std::cell::RefCell;
use std::rc::Rc;

use hyper::{Method, Request, Response, StatusCode};
use svc_schema::{Credentials, Graph, LogLevel};

use crate::http::{self, Body, Handler, Listener};
use crate::logs::MainLog;
use crate::logtail;
use crate::rpc::Api;
use crate::supervisor::Handle;
use crate::web::{self, Page};

/// Largest XML-RPC request body accepted (a `system.multicall` of thousands of calls fits).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A bound server and its credentials.
pub(crate) struct Server {
    listener: Listener,
    auth: Option<Credentials>,
}

/// Binds every configured server; logs supervisord's lines for each.
pub(crate) fn bind(graph: &Graph, main_log: &Rc<RefCell<MainLog>>) -> Result<Vec<Server>, String> {
    let mut servers = Vec::new();
    for server in &graph.unix_http_servers {
        servers.push(Server {
            listener: Listener::bind_unix(server)?,
            auth: server.auth.clone(),
        });
        announce(main_log, "unix_http_server", server.auth.is_some());
    }
    for server in &graph.inet_http_servers {
        servers.push(Server {
            listener: Listener::bind_inet(server)?,
            auth: server.auth.clone(),
        });
        announce(main_log, "inet_http_server", server.auth.is_some());
    }
    Ok(servers)
}

fn announce(main_log: &Rc<RefCell<MainLog>>, section: &str, authenticated: bool) {
    let mut log = main_log.borrow_mut();
    log.log(LogLevel::Info, "RPC interface 'supervisor' initialized");
    if !authenticated {
        log.log(
            LogLevel::Critical,
            &format!("Server '{section}' running without any HTTP authentication checking"),
        );
    }
}

/// Serves every bound server on the executor; the requests are counted in `in_flight`.
/// Cancelling a returned task closes its listener (a unix socket's file is removed);
/// connections already accepted go on.
pub(crate) fn serve(
    servers: Vec<Server>,
    handle: Handle,
    main_log: Rc<RefCell<MainLog>>,
    executor: &Rc<smol::LocalExecutor<'static>>,
    in_flight: &InFlight,
) -> Vec<smol::Task<()>> {
    let api = Rc::new(Api::new(handle.clone()));
    let mut tasks = Vec::new();
    for server in servers {
        let api = Rc::clone(&api);
        let handle = handle.clone();
        let main_log = Rc::clone(&main_log);
        let in_flight = in_flight.clone();
        let handler: Handler = Rc::new(move |request| {
            let api = Rc::clone(&api);
            let handle = handle.clone();
            let main_log = Rc::clone(&main_log);
            let entered = in_flight.enter();
            Box::pin(async move {
                let response = route(request, &api, &handle, &main_log).await;
                drop(entered);
                response
            })
        });
        tasks.push(executor.spawn(http::serve(
            server.listener,
            server.auth,
            handler,
            Rc::clone(executor),
        )));
    }
    tasks
}

/// The requests being answered, so that an exit can let them finish: the `shutdown` call
/// that ends the daemon gets its answer.
#[derive(Clone, Default)]
pub(crate) struct InFlight {
    count: Rc<std::cell::Cell<usize>>,
    idle: Rc<event_listener::Event>,
}

/// One request being answered (dropped when its response is ready).
pub(crate) struct Entered(InFlight);

impl Drop for Entered {
    fn drop(&mut self) {
        let count = self.0.count.get().saturating_sub(1);
        self.0.count.set(count);
        if count == 0 {
            self.0.idle.notify(usize::MAX);
        }
    }
}

impl InFlight {
    fn enter(&self) -> Entered {
        self.count.set(self.count.get() + 1);
        Entered(self.clone())
    }

    /// Waits until no request is being answered, then lets the connections write what
    /// they hold; gives up after `limit` (a client that never reads its answer).
    pub(crate) async fn finish(&self, limit: std::time::Duration) {
        let drained = async {
            while self.count.get() > 0 {
                let idle = self.idle.listen();
                if self.count.get() == 0 {
                    break;
                }
                idle.await;
            }
            // The responses are ready; a few turns of the executor write them out.
            for _ in 0..16 {
                smol::future::yield_now().await;
            }
        };
        smol::future::or(drained, async {
            smol::Timer::after(limit).await;
        })
        .await;
    }
}

/// Routes one authenticated request (see the module docs).
async fn route(
    request: Request<hyper::body::Incoming>,
    api: &Api,
    handle: &Handle,
    main_log: &Rc<RefCell<MainLog>>,
) -> Response<Body> {
    let path = request.uri().path();
    if path.starts_with("/RPC2") {
        return xml_rpc(request, api, main_log).await;
    }
    if path.starts_with("/logtail") {
        return logtail::process_log(&request, api).await;
    }
    if path.starts_with("/mainlogtail") {
        return logtail::main_log(&request, handle).await;
    }
    match Page::at(path) {
        Some(page) => web::serve(page, request, api).await,
        // supervisord's default (static file) handler: GET and HEAD only.
        None if matches!(*request.method(), Method::GET | Method::HEAD) => {
            http::error_response(StatusCode::NOT_FOUND)
        }
        None => http::error_response(StatusCode::BAD_REQUEST),
    }
}

/// `/RPC2`: one XML-RPC call (`POST` only).
async fn xml_rpc(
    request: Request<hyper::body::Incoming>,
    api: &Api,
    main_log: &Rc<RefCell<MainLog>>,
) -> Response<Body> {
    if request.method() != Method::POST {
        return http::error_response(StatusCode::BAD_REQUEST);
    }
    let body = match http::read_body(request.into_body(), MAX_BODY).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let text = String::from_utf8_lossy(&body);
    let invalid = |why: &str| {
        main_log.borrow_mut().log(
            LogLevel::Error,
            &format!(
                "XML-RPC request data {} is invalid: {why}",
                svc_schema::python::repr(&text)
            ),
        );
        http::error_response(StatusCode::BAD_REQUEST)
    };
    let call = match dxr::MethodCall::from_xml(&text) {
        Ok(call) if call.name.is_empty() => return invalid("no method name"),
        Ok(call) => call,
        // A well-formed call without <methodName> is what supervisord calls nameless.
        Err(_) if text.contains("<methodCall") && !text.contains("<methodName") => {
            return invalid("no method name");
        }
        Err(_) => return invalid("unmarshallable"),
    };
    // supervisord's handler traces each call and its outcome.
    let name = call.name.clone();
    let trace = |message: String| main_log.borrow_mut().log(LogLevel::Trace, &message);
    let traced = |fault: Option<&dxr::Fault>| match fault {
        None => trace(format!("XML-RPC method {name}() returned successfully")),
        Some(fault) => trace(format!(
            "XML-RPC method {name}() returned fault: [{}] {}",
            fault.code(),
            fault.string()
        )),
    };
    trace(format!("XML-RPC method called: {name}()"));
    let xml = if call.name == "supervisor.getAllProcessInfo" && call.params.is_empty() {
        let result = api.all_process_info_xml().await;
        traced(result.as_ref().err());
        match result {
            Ok(xml) => Ok(xml),
            Err(fault) => crate::rpc::response_xml(&Err(fault)),
        }
    } else {
        let result = api.call(&call.name, call.params).await;
        traced(result.as_ref().err());
        crate::rpc::response_xml(&result)
    };
    match xml {
        Ok(xml) => {
            let mut response = Response::new(http::full(xml));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/xml"),
            );
            response
        }
        Err(_) => http::error_response(StatusCode::INTERNAL_SERVER_ERROR),
    }
}
