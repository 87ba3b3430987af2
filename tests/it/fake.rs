//! An in-process HTTP/1.1 server for the cloud fakes: a handler per request, injected faults
//! (status codes with `Retry-After`, malformed bodies) and a log of every request.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Decoded query parameters.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(v: &serde_json::Value) -> Response {
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: v.to_string(),
        }
    }
    pub fn error(status: u16, message: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::json!({"error": {"code": status, "message": message, "status": "ERROR"}})
                .to_string(),
        }
    }
}

/// A fault injected into the next request whose path contains `path_part`.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status, with `Retry-After: seconds` when given.
    Status(u16, Option<u64>),
    /// 200 with a body that is not JSON.
    Malformed,
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

pub struct Server {
    pub url: String,
    pub log: Arc<Mutex<Vec<(Request, u16)>>>,
    faults: Arc<Mutex<VecDeque<(String, Fault)>>>,
}

impl Server {
    pub fn start(handler: Arc<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<(Request, u16)>>> = Arc::default();
        let faults: Arc<Mutex<VecDeque<(String, Fault)>>> = Arc::default();
        let (log2, faults2) = (log.clone(), faults.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (handler, log, faults) = (handler.clone(), log2.clone(), faults2.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &*handler, &log, &faults);
                });
            }
        });
        Server { url, log, faults }
    }

    /// Fail the next request whose path contains `path_part`.
    pub fn fault(&self, path_part: &str, f: Fault) {
        self.faults
            .lock()
            .unwrap()
            .push_back((path_part.to_string(), f));
    }

    /// Requests whose path contains `part`, with the status they got.
    pub fn requests(&self, part: &str) -> Vec<(Request, u16)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(r, _)| r.path.contains(part))
            .cloned()
            .collect()
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let h = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(h, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve(
    mut stream: std::net::TcpStream,
    handler: &Handler,
    log: &Mutex<Vec<(Request, u16)>>,
    faults: &Mutex<VecDeque<(String, Fault)>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let (path, qs) = target.split_once('?').unwrap_or((&target, ""));
    let query = qs
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let req = Request {
        method,
        path: decode(path),
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let fault = {
        let mut f = faults.lock().unwrap();
        let pos = f.iter().position(|(p, _)| req.path.contains(p.as_str()));
        pos.and_then(|i| f.remove(i)).map(|(_, fault)| fault)
    };
    let resp = match fault {
        Some(Fault::Status(code, retry_after)) => {
            let mut r = Response::error(code, "injected fault");
            if let Some(s) = retry_after {
                r.headers.push(("Retry-After".into(), s.to_string()));
            }
            r
        }
        Some(Fault::Malformed) => Response {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: "{\"items\": [{\"name\": ".into(),
        },
        None => handler(&req),
    };
    log.lock().unwrap().push((req, resp.status));
    let reason = match resp.status {
        200 => "OK",
        429 => "Too Many Requests",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", resp.status);
    for (k, v) in &resp.headers {
        out += &format!("{k}: {v}\r\n");
    }
    out += &format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        resp.body.len()
    );
    stream.write_all(out.as_bytes())?;
    stream.write_all(resp.body.as_bytes())?;
    stream.flush()
}
