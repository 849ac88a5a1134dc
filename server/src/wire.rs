//! PostgreSQL wire protocol v3 on a blocking socket, one thread per
//! connection (as PostgreSQL has one process per connection): startup and
//! authentication, simple and extended query, COPY in and out, cancel.
//! A malformed message ends that connection only.

use crate::auth;
use basalt_catalog::{DataType, Value};
use basalt_executor::activity::{Backend, Interrupt};
use basalt_executor::pgbinary::{decode_param, encode_binary};
use basalt_executor::{CopyIn, Database, ExecError, ExecResult, RowSink, Session};
use basalt_planner::{Field, Statement};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::net::Shutdown;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

pub struct Shared {
    pub db: Arc<Database>,
    /// SCRAM verifier of the `postgres` role's password, if one is set.
    pub verifier: Option<crate::auth::Verifier>,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// pid → (secret, backend) for CancelRequest.
    pub backends: Mutex<HashMap<i32, (i32, Arc<Backend>)>>,
    pub max_connections: usize,
}

const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// How often an idle listening session looks for notifications.
const LISTEN_POLL: Duration = Duration::from_millis(10);

struct Out {
    buf: Vec<u8>,
}

impl Out {
    /// ParameterStatus: a setting the client tracks changed.
    fn parameter_status(&mut self, name: &str, value: &str) {
        let mut b = Vec::new();
        cstr(&mut b, name);
        cstr(&mut b, value);
        self.msg(b'S', &b);
    }

    fn row_description(&mut self, fields: &[Field], formats: &[i16]) {
        let mut b = Vec::new();
        b.extend_from_slice(&(fields.len() as i16).to_be_bytes());
        for (i, f) in fields.iter().enumerate() {
            cstr(&mut b, &f.name);
            let (tbl, col) = f.source.unwrap_or((0, 0));
            b.extend_from_slice(&(tbl as i32).to_be_bytes());
            b.extend_from_slice(&col.to_be_bytes());
            b.extend_from_slice(&(f.ty.oid() as i32).to_be_bytes());
            b.extend_from_slice(&f.ty.typlen().to_be_bytes());
            b.extend_from_slice(&f.ty.typmod().to_be_bytes());
            b.extend_from_slice(&format_for(formats, i).to_be_bytes());
        }
        self.msg(b'T', &b);
    }

    fn data_row(&mut self, row: &[Value], fields: &[Field], formats: &[i16]) {
        let mut b = Vec::with_capacity(64);
        b.extend_from_slice(&(row.len() as i16).to_be_bytes());
        for (i, v) in row.iter().enumerate() {
            if v.is_null() {
                b.extend_from_slice(&(-1i32).to_be_bytes());
                continue;
            }
            let bytes = if format_for(formats, i) == 1 {
                encode_binary(v, fields.get(i).map(|f| f.ty).unwrap_or(DataType::Text))
            } else {
                v.to_string().into_bytes()
            };
            b.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            b.extend_from_slice(&bytes);
        }
        self.msg(b'D', &b);
    }

    /// CopyOutResponse: text format, `n` columns.
    fn copy_out_response(&mut self, n: usize, binary: bool) {
        self.msg(b'H', &copy_response(n, binary));
    }

    fn msg(&mut self, tag: u8, body: &[u8]) {
        self.buf.push(tag);
        self.buf
            .extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        self.buf.extend_from_slice(body);
    }
}

/// Streams a query's rows onto the connection as the executor produces
/// them, flushing every 64 KiB, so no result is held whole in memory.
struct WireSink<'a> {
    out: &'a mut Out,
    wr: &'a mut Stream,
    formats: &'a [i16],
    describe: bool,
    fields: Vec<Field>,
    /// A COPY TO STDOUT was started: CopyDone is owed after the last line.
    copying: bool,
}

impl WireSink<'_> {
    fn maybe_flush(&mut self) -> Result<(), ExecError> {
        if self.out.buf.len() >= 64 * 1024 {
            self.wr
                .write_all(&self.out.buf)
                .map_err(|e| ExecError::Internal(format!("could not send data to client: {e}")))?;
            self.out.buf.clear();
        }
        Ok(())
    }
}

impl RowSink for WireSink<'_> {
    fn describe(&mut self, fields: &[Field]) -> Result<(), ExecError> {
        if self.describe {
            self.out.row_description(fields, self.formats);
        }
        self.fields = fields.to_vec();
        Ok(())
    }

    fn row(&mut self, row: &basalt_executor::exec::Row) -> Result<(), ExecError> {
        self.out.data_row(row, &self.fields, self.formats);
        self.maybe_flush()
    }

    fn copy_start(&mut self, ncols: usize, binary: bool) -> Result<(), ExecError> {
        self.out.copy_out_response(ncols, binary);
        self.copying = true;
        Ok(())
    }

    fn copy_line(&mut self, line: &[u8]) -> Result<(), ExecError> {
        self.out.msg(b'd', line);
        self.maybe_flush()
    }
}

/// Splits the startup packet's `options` at whitespace, as PostgreSQL
/// does: a backslash makes the next character literal (`a\\ b` is one word).
fn split_options(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn cstr(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(s.as_bytes());
    b.push(0);
}

fn read_cstr(b: &[u8], pos: &mut usize) -> io::Result<String> {
    let start = *pos;
    let end = b[start..]
        .iter()
        .position(|&c| c == 0)
        .ok_or_else(|| bad("missing string terminator"))?
        + start;
    *pos = end + 1;
    String::from_utf8(b[start..end].to_vec()).map_err(|_| bad("invalid UTF-8"))
}

fn bad(m: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, m.to_string())
}

fn rd_i16(b: &[u8], pos: &mut usize) -> io::Result<i16> {
    let v = b.get(*pos..*pos + 2).ok_or_else(|| bad("short message"))?;
    *pos += 2;
    Ok(i16::from_be_bytes([v[0], v[1]]))
}
fn rd_i32(b: &[u8], pos: &mut usize) -> io::Result<i32> {
    let v = b.get(*pos..*pos + 4).ok_or_else(|| bad("short message"))?;
    *pos += 4;
    Ok(i32::from_be_bytes([v[0], v[1], v[2], v[3]]))
}

fn error_body(
    severity: &str,
    code: &str,
    msg: &str,
    detail: Option<&str>,
    hint: Option<&str>,
) -> Vec<u8> {
    error_body_fields(severity, code, msg, detail, hint, &[])
}

/// An ErrorResponse/NoticeResponse body with extra fields (schema, table,
/// column, constraint names).
fn error_body_fields(
    severity: &str,
    code: &str,
    msg: &str,
    detail: Option<&str>,
    hint: Option<&str>,
    fields: &[(u8, String)],
) -> Vec<u8> {
    let mut b = Vec::new();
    b.push(b'S');
    cstr(&mut b, severity);
    b.push(b'V');
    cstr(&mut b, severity);
    b.push(b'C');
    cstr(&mut b, code);
    b.push(b'M');
    cstr(&mut b, msg);
    if let Some(d) = detail {
        b.push(b'D');
        cstr(&mut b, d);
    }
    if let Some(h) = hint {
        b.push(b'H');
        cstr(&mut b, h);
    }
    for (k, v) in fields {
        b.push(*k);
        cstr(&mut b, v);
    }
    b.push(0);
    b
}

struct Prepared {
    /// Shared so each Execute can report and log it without a copy.
    sql: Arc<str>,
    parsed: Option<basalt_parser::Statement>,
    planned: Option<Statement>,
    param_types: Vec<DataType>,
    version: u64,
}

struct Portal {
    stmt: String,
    params: Vec<Value>,
    formats: Vec<i16>,
    /// Once run: the result's tag and columns, and how many rows have gone.
    result: Option<(ExecResult, usize)>,
    /// A row-limited portal's rows, kept between Executes (in bounded
    /// memory: the rest on disk).
    rows: Option<basalt_executor::rowstore::RowStore>,
}

/// Keeps a row-limited portal's rows for later Executes.
struct StoreSink {
    rows: basalt_executor::rowstore::RowStore,
    fields: Option<Vec<Field>>,
}

impl RowSink for StoreSink {
    fn describe(&mut self, fields: &[Field]) -> Result<(), ExecError> {
        self.fields = Some(fields.to_vec());
        Ok(())
    }

    fn row(&mut self, row: &basalt_executor::exec::Row) -> Result<(), ExecError> {
        self.rows.push(row)
    }

    fn copy_start(&mut self, _: usize, _: bool) -> Result<(), ExecError> {
        Err(ExecError::coded(
            "0A000",
            "COPY TO STDOUT cannot run in a portal with a row limit",
        ))
    }

    fn copy_line(&mut self, _: &[u8]) -> Result<(), ExecError> {
        Ok(())
    }
}

pub struct Conn<'a> {
    _shared: &'a Shared,
    /// The socket, for read timeouts (idle_in_transaction_session_timeout).
    sock: Option<TcpStream>,
    /// The read timeout set on `sock` now.
    read_timeout: Option<Duration>,
    /// A FATAL error was sent: close after flushing.
    closing: bool,
    io: BufReader<Stream>,
    out: Out,
    session: Session,
    prepared: HashMap<String, Prepared>,
    portals: HashMap<String, Portal>,
    skip_to_sync: bool,
}

fn read_exact_msg(rd: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut t = [0u8; 1];
    match rd.read_exact(&mut t) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut l = [0u8; 4];
    rd.read_exact(&mut l)?;
    let len = i32::from_be_bytes(l);
    if !(4..=MAX_MESSAGE as i32).contains(&len) {
        return Err(bad("invalid message length"));
    }
    let mut body = vec![0u8; len as usize - 4];
    rd.read_exact(&mut body)?;
    Ok(Some((t[0], body)))
}

/// The client connection, in plaintext or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

fn send(io: &mut impl Write, out: &mut Out) -> io::Result<()> {
    io.write_all(&out.buf)?;
    out.buf.clear();
    io.flush()
}

fn fatal(io: &mut impl Write, code: &str, msg: &str) -> io::Result<()> {
    let mut o = Out { buf: vec![] };
    o.msg(b'E', &error_body("FATAL", code, msg, None, None));
    send(io, &mut o)
}

/// Reads startup packets until the StartupMessage, answering SSLRequest
/// (upgrading to TLS when configured) and GSSENCRequest, and handling
/// CancelRequest. Returns None when the connection is done.
fn startup(
    shared: &Shared,
    mut stream: Stream,
) -> io::Result<Option<(Stream, HashMap<String, String>)>> {
    loop {
        let mut l = [0u8; 4];
        stream.read_exact(&mut l)?;
        let len = i32::from_be_bytes(l);
        if !(8..=10000).contains(&len) {
            return Err(bad("invalid startup packet length"));
        }
        let mut body = vec![0u8; len as usize - 4];
        stream.read_exact(&mut body)?;
        let mut pos = 0;
        let code = rd_i32(&body, &mut pos)?;
        match code {
            80877103 => match (&stream, &shared.tls) {
                (Stream::Plain(tcp), Some(cfg)) => {
                    let mut tcp = tcp.try_clone()?;
                    tcp.write_all(b"S")?;
                    let conn = rustls::ServerConnection::new(cfg.clone())
                        .map_err(|e| io::Error::other(e.to_string()))?;
                    stream = Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)));
                }
                _ => stream.write_all(b"N")?,
            },
            80877104 => stream.write_all(b"N")?,
            80877102 => {
                let pid = rd_i32(&body, &mut pos)?;
                let key = rd_i32(&body, &mut pos)?;
                if let Some((k, b)) = shared.backends.lock().get(&pid) {
                    if *k == key {
                        b.raise(Interrupt::Cancel);
                    }
                }
                return Ok(None);
            }
            196608 => {
                let mut params = HashMap::new();
                while pos < body.len() && body[pos] != 0 {
                    let k = read_cstr(&body, &mut pos)?;
                    let v = read_cstr(&body, &mut pos)?;
                    params.insert(k, v);
                }
                return Ok(Some((stream, params)));
            }
            _ => {
                fatal(
                    &mut stream,
                    "08P01",
                    &format!(
                        "unsupported frontend protocol {}.{}",
                        code >> 16,
                        code & 0xffff
                    ),
                )?;
                return Ok(None);
            }
        }
    }
}

/// SCRAM-SHA-256 exchange; Ok(false) when the client failed it (already
/// told why).
fn authenticate(
    io: &mut BufReader<Stream>,
    verifier: &auth::Verifier,
    user: &str,
) -> io::Result<bool> {
    let mut out = Out { buf: vec![] };
    let mut b = 10i32.to_be_bytes().to_vec();
    cstr(&mut b, auth::MECHANISM);
    b.push(0);
    out.msg(b'R', &b);
    send(io.get_mut(), &mut out)?;
    let failed = format!("password authentication failed for user \"{user}\"");
    let Some((b'p', body)) = read_exact_msg(io)? else {
        fatal(io.get_mut(), "08P01", "expected SASL response")?;
        return Ok(false);
    };
    let mut pos = 0;
    let mech = read_cstr(&body, &mut pos)?;
    if mech != auth::MECHANISM {
        fatal(
            io.get_mut(),
            "08P01",
            "client selected an invalid SASL authentication mechanism",
        )?;
        return Ok(false);
    }
    let n = rd_i32(&body, &mut pos)?;
    let first = body
        .get(pos..pos + n.max(0) as usize)
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or_else(|| bad("malformed SASLInitialResponse"))?;
    let reject = |io: &mut BufReader<Stream>, e: auth::ScramError| -> io::Result<bool> {
        match e {
            auth::ScramError::Protocol(m) => fatal(io.get_mut(), "08P01", &m)?,
            auth::ScramError::BadPassword => fatal(io.get_mut(), "28P01", &failed)?,
        }
        Ok(false)
    };
    let (scram, server_first) = match auth::ScramServer::start(verifier, first) {
        Ok(x) => x,
        Err(e) => return reject(io, e),
    };
    let mut b = 11i32.to_be_bytes().to_vec();
    b.extend_from_slice(server_first.as_bytes());
    out.msg(b'R', &b);
    send(io.get_mut(), &mut out)?;
    let Some((b'p', body)) = read_exact_msg(io)? else {
        fatal(io.get_mut(), "08P01", "expected SASL response")?;
        return Ok(false);
    };
    let fin = std::str::from_utf8(&body).map_err(|_| bad("malformed SASLResponse"))?;
    match scram.finish(fin) {
        Ok(server_final) => {
            let mut b = 12i32.to_be_bytes().to_vec();
            b.extend_from_slice(server_final.as_bytes());
            out.msg(b'R', &b);
            send(io.get_mut(), &mut out)?;
            Ok(true)
        }
        Err(e) => reject(io, e),
    }
}

/// MD5 challenge: the client answers `md5` + md5(stored hash + salt);
/// Ok(false) when it failed (already told why).
fn authenticate_md5(io: &mut BufReader<Stream>, stored: &str, user: &str) -> io::Result<bool> {
    let mut salt = [0u8; 4];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| io::Error::other("no randomness for the MD5 salt"))?;
    let mut out = Out { buf: vec![] };
    let mut b = 5i32.to_be_bytes().to_vec();
    b.extend_from_slice(&salt);
    out.msg(b'R', &b);
    send(io.get_mut(), &mut out)?;
    let Some((b'p', body)) = read_exact_msg(io)? else {
        fatal(io.get_mut(), "08P01", "expected password response")?;
        return Ok(false);
    };
    let mut pos = 0;
    let given = read_cstr(&body, &mut pos)?;
    let mut inner = stored.as_bytes()[3..].to_vec();
    inner.extend_from_slice(&salt);
    let want = format!("md5{}", basalt_executor::funcs::md5_hex(&inner));
    if !basalt_executor::scram::ct_eq(want.as_bytes(), given.as_bytes()) {
        fatal(
            io.get_mut(),
            "28P01",
            &format!("password authentication failed for user \"{user}\""),
        )?;
        return Ok(false);
    }
    Ok(true)
}

/// Handles one client connection from its first byte to its last.
pub fn serve(shared: &Shared, tcp: TcpStream) -> io::Result<()> {
    let _ = tcp.set_nodelay(true);
    let sock = tcp.try_clone().ok();
    let waker = tcp.try_clone().ok();
    let peer_loopback = tcp
        .peer_addr()
        .map(|a| a.ip().is_loopback())
        .unwrap_or(false);
    let Some((stream, params)) = startup(shared, Stream::Plain(tcp))? else {
        return Ok(());
    };
    let mut io = BufReader::with_capacity(64 * 1024, stream);
    let user = params.get("user").cloned().unwrap_or_default();
    let dbname = params
        .get("database")
        .cloned()
        .filter(|d| !d.is_empty())
        .unwrap_or(user.clone());
    let schema = match shared.db.catalog.committed_schema() {
        Ok(s) => s,
        Err(e) => return fatal(io.get_mut(), "XX000", &e.to_string()),
    };
    let Some(role) = schema.role(&user).cloned() else {
        tracing::info!(user = %user, "connection refused: no such role");
        return fatal(
            io.get_mut(),
            "28000",
            &format!("role \"{user}\" does not exist"),
        );
    };
    if !role.login {
        tracing::info!(user = %user, "connection refused: role cannot log in");
        return fatal(
            io.get_mut(),
            "28000",
            &format!("role \"{user}\" is not permitted to log in"),
        );
    }
    // The role's own verifier; the bootstrap superuser's may come from the
    // server's password setting instead. A role whose password is an MD5
    // hash logs in by MD5 challenge, as PostgreSQL's `md5` method does.
    if let Some(p) = role
        .password
        .as_deref()
        .filter(|p| basalt_executor::roles::is_md5_secret(p))
    {
        if !authenticate_md5(&mut io, p, &user)? {
            tracing::info!(user = %user, "password authentication failed");
            return Ok(());
        }
    }
    let verifier = match &role.password {
        Some(p) if basalt_executor::roles::is_md5_secret(p) => None,
        Some(p) => match auth::Verifier::from_secret(p) {
            Ok(v) => Some(v),
            Err(e) => return fatal(io.get_mut(), "XX000", &e),
        },
        None if role.oid == basalt_catalog::store::BOOTSTRAP_SUPERUSER => shared.verifier.clone(),
        None => None,
    };
    match &verifier {
        Some(v) => {
            if !authenticate(&mut io, v, &user)? {
                tracing::info!(user = %user, "password authentication failed");
                return Ok(());
            }
        }
        None if role.password.is_some() => {}
        None if shared.verifier.is_some() => {
            tracing::info!(user = %user, "password authentication failed: role has no password");
            return fatal(
                io.get_mut(),
                "28P01",
                &format!("password authentication failed for user \"{user}\""),
            );
        }
        None if !peer_loopback => {
            return fatal(
                io.get_mut(),
                "28000",
                "no password is set, so only loopback connections are allowed: set BASALT_PASSWORD (or -c password_file=...) to accept remote clients",
            );
        }
        None => {}
    }
    if shared.backends.lock().len() >= shared.max_connections {
        return fatal(io.get_mut(), "53300", "sorry, too many clients already");
    }
    let mut session = shared.db.session();
    session.set_session_user(role.oid);
    if let Err(e) = session
        .set_database(&dbname)
        .and_then(|_| session.check_connection_limit())
    {
        return fatal(io.get_mut(), e.sqlstate(), &e.to_string());
    }
    let db_warnings = session.apply_database_settings();
    tracing::info!(user = %user, pid = session.pid, "connection authorized");
    let mut out = Out { buf: vec![] };
    // Settings given in the startup packet, and -c options in "options".
    let mut startup_settings: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "user" | "database" | "replication" | "options"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(opts) = params.get("options") {
        let split = split_options(opts);
        let mut words = split.iter().map(String::as_str);
        while let Some(w) = words.next() {
            let kv = match w {
                "-c" => words.next().unwrap_or(""),
                w => w
                    .strip_prefix("--")
                    .or_else(|| w.strip_prefix("-c"))
                    .unwrap_or(""),
            };
            if let Some((k, v)) = kv.split_once('=') {
                startup_settings.push((k.replace('-', "_"), v.to_string()));
            }
        }
    }
    for (k, v) in startup_settings {
        if let Err(e) = session.set_setting(&k, Some(&v)) {
            return fatal(io.get_mut(), e.sqlstate(), &e.to_string());
        }
    }
    let mut key = [0u8; 4];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
        .map_err(|_| io::Error::other("no randomness for the cancel key"))?;
    let secret = i32::from_be_bytes(key);
    if let Some(w) = waker {
        // pg_terminate_backend wakes a backend blocked reading its socket.
        *session.backend.on_terminate.lock() = Some(Box::new(move || {
            let _ = w.shutdown(Shutdown::Read);
        }));
    }
    {
        let mut a = session.backend.activity.lock();
        a.application_name = session.setting("application_name").unwrap_or_default();
        if let Some(addr) = sock.as_ref().and_then(|s| s.peer_addr().ok()) {
            a.client_addr = Some(addr.ip().to_string());
            a.client_port = Some(addr.port() as i32);
        }
    }
    shared
        .backends
        .lock()
        .insert(session.pid, (secret, session.backend.clone()));
    out.msg(b'R', &0i32.to_be_bytes());
    for w in &db_warnings {
        out.msg(b'N', &error_body("WARNING", "22023", w, None, None));
    }
    for k in basalt_executor::REPORTED_SETTINGS {
        if let Some(v) = session.setting(k) {
            out.parameter_status(k, &v);
        }
    }
    let mut k = Vec::new();
    k.extend_from_slice(&session.pid.to_be_bytes());
    k.extend_from_slice(&secret.to_be_bytes());
    out.msg(b'K', &k);
    let pid = session.pid;
    let mut conn = Conn {
        _shared: shared,
        sock,
        read_timeout: None,
        closing: false,
        io,
        out,
        session,
        prepared: HashMap::new(),
        portals: HashMap::new(),
        skip_to_sync: false,
    };
    conn.ready();
    let res = conn.run();
    conn.session.terminate();
    shared.backends.lock().remove(&pid);
    res
}

impl Conn<'_> {
    fn flush(&mut self) -> io::Result<()> {
        send(self.io.get_mut(), &mut self.out)
    }

    fn ready(&mut self) {
        let (st, state) = if self.session.in_failed_transaction() {
            (b'E', "idle in transaction (aborted)")
        } else if self.session.in_transaction_block() {
            (b'T', "idle in transaction")
        } else {
            (b'I', "idle")
        };
        if st == b'I' {
            self.notifications();
        }
        self.session.report_activity(state, None);
        self.out.msg(b'Z', &[st]);
    }

    /// NotificationResponse for each notification waiting for this session
    /// (sent between transactions only, as PostgreSQL does).
    fn notifications(&mut self) {
        for n in self.session.take_notifications() {
            let mut b = n.pid.to_be_bytes().to_vec();
            cstr(&mut b, &n.channel);
            cstr(&mut b, &n.payload);
            self.out.msg(b'A', &b);
        }
    }

    /// While idle outside a transaction with LISTENs in force, waits for
    /// the client's next message by short timed reads, delivering
    /// notifications committed meanwhile. Nothing is consumed until a whole
    /// read succeeds, so no message is torn.
    fn wait_listening(&mut self) -> io::Result<()> {
        use std::io::BufRead;
        if !self.io.buffer().is_empty() {
            return Ok(());
        }
        let Some(sock) = self.sock.as_ref().and_then(|s| s.try_clone().ok()) else {
            return Ok(());
        };
        // One timeout for the whole wait: each expiry is a look at the queue.
        sock.set_read_timeout(Some(LISTEN_POLL))?;
        let r = loop {
            if !self.session.is_listening()
                || self.session.in_transaction_block()
                || self.session.backend.terminated()
            {
                break Ok(());
            }
            match self.io.fill_buf() {
                Ok(_) => break Ok(()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    self.notifications();
                    if !self.out.buf.is_empty() {
                        if let Err(e) = self.flush() {
                            break Err(e);
                        }
                    }
                }
                Err(e) => break Err(e),
            }
        };
        let _ = sock.set_read_timeout(None);
        r
    }

    fn error(&mut self, e: &ExecError) {
        let code = e.sqlstate();
        if code == "XX000" || code == "XX001" || code == "58030" {
            tracing::error!(error = %e, "statement failed");
        }
        let mut sev = "ERROR";
        if matches!(e, ExecError::Terminated) {
            sev = "FATAL";
            self.closing = true;
        }
        let msg = e.to_string();
        let fields = self.session.error_fields(e);
        self.out.msg(
            b'E',
            &error_body_fields(sev, code, &msg, e.detail(), e.hint(), &fields),
        );
    }

    /// Arms the idle-in-transaction timeout while a transaction block is
    /// open and the client is silent; disarms it otherwise.
    fn arm_idle_timeout(&mut self) {
        let want = if self.session.in_transaction_block() {
            self.session.idle_in_transaction_timeout()
        } else {
            None
        };
        if want != self.read_timeout {
            if let Some(s) = &self.sock {
                if s.set_read_timeout(want).is_ok() {
                    self.read_timeout = want;
                }
            }
        }
    }

    /// Reads the next message; on a terminate request or an idle timeout
    /// sends the FATAL error and answers None (close).
    fn next_message(&mut self) -> io::Result<Option<(u8, Vec<u8>)>> {
        if self.read_timeout.is_none() && self.session.is_listening() {
            self.wait_listening()?;
        }
        let r = read_exact_msg(&mut self.io);
        if self.read_timeout.is_some() {
            if let Some(s) = &self.sock {
                let _ = s.set_read_timeout(None);
            }
            self.read_timeout = None;
        }
        if self.session.backend.terminated() {
            self.error(&ExecError::Terminated);
            let _ = self.flush();
            return Ok(None);
        }
        match r {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                self.out.msg(
                    b'E',
                    &error_body(
                        "FATAL",
                        "25P03",
                        "terminating connection due to idle-in-transaction timeout",
                        None,
                        None,
                    ),
                );
                let _ = self.flush();
                Ok(None)
            }
            r => r,
        }
    }

    fn notice(&mut self, n: &str) {
        let (sev, msg) = if let Some(m) = n.strip_prefix("WARNING: ") {
            ("WARNING", m)
        } else if let Some(m) = n.strip_prefix("INFO: ") {
            ("INFO", m)
        } else {
            ("NOTICE", n)
        };
        let code = if sev == "WARNING" { "25001" } else { "00000" };
        self.out.msg(b'N', &error_body(sev, code, msg, None, None));
    }

    fn run(&mut self) -> io::Result<()> {
        loop {
            // Send only when about to wait for the client: a pipelined
            // Bind/Execute/Sync is answered with one write.
            if self.io.buffer().is_empty() || self.out.buf.len() > 1 << 16 || self.closing {
                self.flush()?;
            }
            if self.closing {
                return Ok(());
            }
            self.arm_idle_timeout();
            let Some((tag, body)) = self.next_message()? else {
                return Ok(());
            };
            if self.skip_to_sync && !matches!(tag, b'S' | b'X') {
                continue;
            }
            match tag {
                b'Q' => {
                    let mut pos = 0;
                    let sql = read_cstr(&body, &mut pos)?;
                    self.simple_query(&sql)?;
                    self.ready();
                }
                b'P' => self.on_parse(&body)?,
                b'B' => self.on_bind(&body)?,
                b'D' => self.on_describe(&body)?,
                b'E' => self.on_execute(&body)?,
                b'C' => {
                    let mut pos = 1;
                    let name = read_cstr(&body, &mut pos)?;
                    if body.first() == Some(&b'S') {
                        self.prepared.remove(&name);
                    } else {
                        self.portals.remove(&name);
                    }
                    self.out.msg(b'3', &[]);
                }
                b'S' => {
                    self.skip_to_sync = false;
                    self.portals.retain(|k, _| !k.is_empty());
                    self.ready();
                }
                b'H' => {}
                b'X' => return Ok(()),
                b'd' | b'c' | b'f' => {}
                other => {
                    self.out.msg(
                        b'E',
                        &error_body(
                            "FATAL",
                            "08P01",
                            &format!("invalid frontend message type {other}"),
                            None,
                            None,
                        ),
                    );
                    self.flush()?;
                    return Ok(());
                }
            }
        }
    }

    fn send_result(&mut self, r: ExecResult, formats: &[i16], describe: bool) -> io::Result<()> {
        for n in &r.notices {
            self.notice(n);
        }
        if let Some((k, v)) = &r.parameter_status {
            self.out.parameter_status(k, v);
        }
        if let Some(fields) = &r.fields {
            if r.copy_out.is_none() {
                if describe {
                    self.out.row_description(fields, formats);
                }
                for row in &r.rows {
                    self.out.data_row(row, fields, formats);
                    if self.out.buf.len() > 1 << 20 {
                        self.flush()?;
                    }
                }
            }
        }
        if let Some(lines) = &r.copy_out {
            let n = r.fields.as_ref().map(|f| f.len()).unwrap_or(0);
            self.out.copy_out_response(n, r.copy_binary);
            for l in lines {
                self.out.msg(b'd', l);
            }
            self.out.msg(b'c', &[]);
        }
        let mut b = Vec::new();
        cstr(&mut b, &r.tag);
        self.out.msg(b'C', &b);
        Ok(())
    }

    fn simple_query(&mut self, sql: &str) -> io::Result<()> {
        self.session.report_activity("active", Some(sql));
        let t0 = self.log_before(sql, None);
        let r = self.simple_query_inner(sql);
        self.log_after(sql, None, t0);
        r
    }

    /// log_statement: logs a statement of the configured kinds before it
    /// runs; returns the start time when log_min_duration_statement is on.
    fn log_before(&self, sql: &str, portal: Option<&str>) -> Option<std::time::Instant> {
        use basalt_executor::txn::LogStatement;
        let (which, min) = self.session.log_settings();
        if which != LogStatement::None {
            let first = sql
                .trim_start()
                .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let kind = match first.as_str() {
                "create" | "alter" | "drop" | "truncate" | "grant" | "revoke" | "comment"
                | "reindex" => LogStatement::Ddl,
                "insert" | "update" | "delete" | "copy" | "merge" => LogStatement::Mod,
                _ => LogStatement::All,
            };
            if kind <= which {
                match portal {
                    None => tracing::info!(pid = self.session.pid, "statement: {sql}"),
                    Some(p) => tracing::info!(pid = self.session.pid, "execute {p}: {sql}"),
                }
            }
        }
        min.map(|_| std::time::Instant::now())
    }

    /// log_min_duration_statement: logs a statement that took at least it.
    fn log_after(&self, sql: &str, portal: Option<&str>, t0: Option<std::time::Instant>) {
        let (_, min) = self.session.log_settings();
        if let (Some(t0), Some(min)) = (t0, min) {
            let took = t0.elapsed();
            if took >= min {
                let ms = took.as_secs_f64() * 1000.0;
                match portal {
                    None => tracing::info!(
                        pid = self.session.pid,
                        "duration: {ms:.3} ms  statement: {sql}"
                    ),
                    Some(p) => tracing::info!(
                        pid = self.session.pid,
                        "duration: {ms:.3} ms  execute {p}: {sql}"
                    ),
                }
            }
        }
    }

    fn simple_query_inner(&mut self, sql: &str) -> io::Result<()> {
        let stmts = match basalt_parser::parse(sql) {
            Ok(s) => s,
            Err(e) => {
                self.session.on_error();
                self.error(&e.into());
                return Ok(());
            }
        };
        if stmts.is_empty() {
            self.out.msg(b'I', &[]);
            return Ok(());
        }
        for s in &stmts {
            let res = self.streamed(&[], true, |session, sink| {
                session.run_parsed_to(s, &[], Some(sink))
            });
            match res {
                Ok(mut r) => {
                    if let Some(c) = r.copy_in.take() {
                        self.copy_in(c)?;
                    } else {
                        self.send_result(r, &[], true)?;
                    }
                }
                Err(e) => {
                    self.error(&e);
                    break;
                }
            }
        }
        Ok(())
    }

    fn copy_in(&mut self, mut c: CopyIn) -> io::Result<()> {
        let binary = c.options.format == basalt_planner::CopyFormat::Binary;
        self.out.msg(b'G', &copy_response(c.ncols, binary));
        self.flush()?;
        let mut failed: Option<ExecError> = None;
        loop {
            let Some((tag, body)) = read_exact_msg(&mut self.io)? else {
                return Ok(());
            };
            match tag {
                b'd' => {
                    if failed.is_none() {
                        if let Err(e) = self.session.copy_data(&mut c, &body) {
                            failed = Some(e);
                        }
                    }
                }
                b'c' => break,
                b'f' => {
                    let mut pos = 0;
                    let m = read_cstr(&body, &mut pos).unwrap_or_default();
                    failed.get_or_insert(ExecError::BadCopyData(format!(
                        "COPY from stdin failed: {m}"
                    )));
                    break;
                }
                b'H' | b'S' => {}
                _ => return Err(bad("unexpected message during COPY")),
            }
        }
        let res = match failed {
            Some(e) => Err(e),
            None => self.session.copy_done(c),
        };
        match res {
            Ok(r) => self.send_result(r, &[], true)?,
            Err(e) => {
                self.session.on_error();
                self.error(&e);
            }
        }
        Ok(())
    }

    /// Runs a statement whose rows (or COPY TO lines) stream straight to
    /// this connection; a finished COPY TO gets its CopyDone here.
    fn streamed(
        &mut self,
        formats: &[i16],
        describe: bool,
        run: impl FnOnce(&mut Session, &mut dyn RowSink) -> Result<ExecResult, ExecError>,
    ) -> Result<ExecResult, ExecError> {
        let mut sink = WireSink {
            out: &mut self.out,
            wr: self.io.get_mut(),
            formats,
            describe,
            fields: vec![],
            copying: false,
        };
        let res = run(&mut self.session, &mut sink);
        if sink.copying && res.is_ok() {
            self.out.msg(b'c', &[]);
        }
        res
    }

    fn fail_extended(&mut self, e: ExecError) {
        self.session.on_error();
        self.error(&e);
        self.skip_to_sync = true;
    }

    fn on_parse(&mut self, body: &[u8]) -> io::Result<()> {
        let mut pos = 0;
        let name = read_cstr(body, &mut pos)?;
        let sql = read_cstr(body, &mut pos)?;
        let n = rd_i16(body, &mut pos)?.max(0) as usize;
        let mut types = Vec::with_capacity(n);
        for _ in 0..n {
            let oid = rd_i32(body, &mut pos)? as u32;
            types.push(DataType::from_oid(oid).unwrap_or(DataType::Unknown));
        }
        let parsed = match basalt_parser::parse(&sql) {
            Ok(mut v) if v.len() <= 1 => v.pop(),
            Ok(_) => {
                self.fail_extended(ExecError::Parse(basalt_parser::ParseError(
                    "cannot insert multiple commands into a prepared statement".into(),
                )));
                return Ok(());
            }
            Err(e) => {
                self.fail_extended(e.into());
                return Ok(());
            }
        };
        let mut p = Prepared {
            sql: Arc::from(sql.as_str()),
            parsed,
            planned: None,
            param_types: types,
            version: 0,
        };
        if let Some(s) = &p.parsed {
            if !is_txn_control(s) {
                match self.session.plan(s, &p.param_types) {
                    Ok((planned, pt)) => {
                        p.planned = Some(planned);
                        p.param_types = pt;
                        p.version = self.session.catalog_version();
                    }
                    Err(e) => {
                        self.fail_extended(e);
                        return Ok(());
                    }
                }
            }
        }
        self.prepared.insert(name, p);
        self.out.msg(b'1', &[]);
        Ok(())
    }

    fn on_bind(&mut self, body: &[u8]) -> io::Result<()> {
        let mut pos = 0;
        let portal = read_cstr(body, &mut pos)?;
        let stmt = read_cstr(body, &mut pos)?;
        let nf = rd_i16(body, &mut pos)?.max(0) as usize;
        let mut pformats = Vec::with_capacity(nf);
        for _ in 0..nf {
            pformats.push(rd_i16(body, &mut pos)?);
        }
        let np = rd_i16(body, &mut pos)?.max(0) as usize;
        let Some(prep) = self.prepared.get(&stmt) else {
            self.fail_extended(ExecError::Internal(format!(
                "prepared statement \"{stmt}\" does not exist"
            )));
            return Ok(());
        };
        let types = prep.param_types.clone();
        // Text timestamptz parameters without an offset are in the
        // session's time zone.
        self.session.enter();
        let mut params = Vec::with_capacity(np);
        for i in 0..np {
            let len = rd_i32(body, &mut pos)?;
            if len < 0 {
                params.push(Value::Null);
                continue;
            }
            let data = body
                .get(pos..pos + len as usize)
                .ok_or_else(|| bad("short Bind"))?;
            pos += len as usize;
            let fmt = format_for(&pformats, i);
            let ty = types.get(i).copied().unwrap_or(DataType::Text);
            match decode_param(data, fmt, ty) {
                Ok(v) => params.push(v),
                Err(e) => {
                    self.fail_extended(e);
                    return Ok(());
                }
            }
        }
        let nr = rd_i16(body, &mut pos)?.max(0) as usize;
        let mut formats = Vec::with_capacity(nr);
        for _ in 0..nr {
            formats.push(rd_i16(body, &mut pos)?);
        }
        self.portals.insert(
            portal,
            Portal {
                stmt,
                params,
                formats,
                result: None,
                rows: None,
            },
        );
        self.out.msg(b'2', &[]);
        Ok(())
    }

    /// The plan of a prepared statement, re-planned if the catalog changed.
    /// Drops a prepared statement's plan so the next use plans it again.
    fn forget_plan(&mut self, name: &str) {
        if let Some(p) = self.prepared.get_mut(name) {
            p.planned = None;
        }
    }

    fn current_plan(&mut self, name: &str) -> Result<Option<Statement>, ExecError> {
        let version = self.session.catalog_version();
        let own = self.session.has_own_ddl();
        let Some(p) = self.prepared.get(name) else {
            return Err(ExecError::Internal(format!(
                "prepared statement \"{name}\" does not exist"
            )));
        };
        let Some(parsed) = p.parsed.clone() else {
            return Ok(None);
        };
        if p.planned.is_some() && p.version == version && !own {
            return Ok(p.planned.clone());
        }
        let types = p.param_types.clone();
        if is_txn_control(&parsed) {
            return Ok(Some(self.session.plan(&parsed, &types)?.0));
        }
        let (planned, _) = self.session.plan(&parsed, &types)?;
        if let Some(p) = self.prepared.get_mut(name) {
            p.planned = Some(planned.clone());
            p.version = version;
        }
        Ok(Some(planned))
    }

    fn on_describe(&mut self, body: &[u8]) -> io::Result<()> {
        let mut pos = 1;
        let name = read_cstr(body, &mut pos)?;
        let (stmt_name, formats, is_portal) = if body.first() == Some(&b'S') {
            (name, vec![], false)
        } else {
            match self.portals.get(&name) {
                Some(p) => (p.stmt.clone(), p.formats.clone(), true),
                None => {
                    // A cursor DECLAREd in SQL is a portal too.
                    if let Some(fields) = self.session.cursor_fields(&name) {
                        self.out.row_description(&fields, &[]);
                        return Ok(());
                    }
                    self.fail_extended(ExecError::coded(
                        "34000",
                        format!("portal \"{name}\" does not exist"),
                    ));
                    return Ok(());
                }
            }
        };
        let plan = match self.current_plan(&stmt_name) {
            Ok(p) => p,
            Err(e) => {
                self.fail_extended(e);
                return Ok(());
            }
        };
        if !is_portal {
            let types = self
                .prepared
                .get(&stmt_name)
                .map(|p| p.param_types.clone())
                .unwrap_or_default();
            let mut b = Vec::new();
            b.extend_from_slice(&(types.len() as i16).to_be_bytes());
            for t in &types {
                b.extend_from_slice(&(t.oid() as i32).to_be_bytes());
            }
            self.out.msg(b't', &b);
        }
        let fields = plan.as_ref().and_then(|p| match p {
            // A FETCH returns its cursor's columns.
            Statement::Fetch {
                cursor,
                move_only: false,
                ..
            } => self.session.cursor_fields(cursor),
            p => result_fields(p),
        });
        match fields {
            Some(fields) => self.out.row_description(&fields, &formats),
            None => self.out.msg(b'n', &[]),
        }
        Ok(())
    }

    fn on_execute(&mut self, body: &[u8]) -> io::Result<()> {
        let mut pos = 0;
        let name = read_cstr(body, &mut pos)?;
        let max = rd_i32(body, &mut pos)?;
        let Some(portal) = self.portals.get(&name) else {
            self.fail_extended(ExecError::coded(
                "34000",
                format!("portal \"{name}\" does not exist"),
            ));
            return Ok(());
        };
        let stmt_name = portal.stmt.clone();
        let sql_text = self.prepared.get(&stmt_name).map(|p| p.sql.clone());
        if let Some(sql) = &sql_text {
            self.session.report_activity("active", Some(sql));
        }
        let label = if stmt_name.is_empty() {
            "<unnamed>"
        } else {
            stmt_name.as_str()
        };
        let t0 = sql_text
            .as_deref()
            .and_then(|sql| self.log_before(sql, Some(label)));
        let r = self.execute_portal(&name, &stmt_name, max);
        if let Some(sql) = &sql_text {
            self.log_after(sql, Some(label), t0);
        }
        r
    }

    fn execute_portal(&mut self, name: &str, stmt_name: &str, max: i32) -> io::Result<()> {
        let Some(portal) = self.portals.get(name) else {
            return Ok(());
        };
        let params = portal.params.clone();
        let formats = portal.formats.clone();
        let mut tries = 0;
        while self.portals.get(name).is_some_and(|p| p.result.is_none()) {
            tries += 1;
            let plan = match self.current_plan(stmt_name) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    self.out.msg(b'I', &[]);
                    return Ok(());
                }
                Err(e) => {
                    self.fail_extended(e);
                    return Ok(());
                }
            };
            // Run to completion: rows stream straight to the client.
            if max <= 0 {
                let res = self.streamed(&formats, false, |session, sink| {
                    session.execute_to(&plan, &params, Some(sink))
                });
                match res {
                    Ok(mut r) => {
                        if let Some(c) = r.copy_in.take() {
                            return self.copy_in(c);
                        }
                        let done = ExecResult {
                            tag: r.tag.clone(),
                            fields: r.fields.clone(),
                            ..Default::default()
                        };
                        if let Some(p) = self.portals.get_mut(name) {
                            p.result = Some((done, 0));
                        }
                        return self.send_result(r, &formats, false);
                    }
                    Err(ExecError::StalePlan) if tries < 5 => {
                        self.forget_plan(stmt_name);
                        continue;
                    }
                    Err(e) => {
                        self.fail_extended(e);
                        return Ok(());
                    }
                }
            }
            let mut sink = StoreSink {
                rows: basalt_executor::rowstore::RowStore::new(&self.session.db.st.dir),
                fields: None,
            };
            let r = self.session.execute_to(&plan, &params, Some(&mut sink));
            match r {
                Ok(mut r) => {
                    if let Some(c) = r.copy_in.take() {
                        return self.copy_in(c);
                    }
                    for row in std::mem::take(&mut r.rows) {
                        if let Err(e) = sink.rows.push(&row) {
                            self.fail_extended(e);
                            return Ok(());
                        }
                    }
                    if r.fields.is_none() {
                        r.fields = sink.fields.take();
                    }
                    if let Some(p) = self.portals.get_mut(name) {
                        p.result = Some((r, 0));
                        p.rows = Some(sink.rows);
                    }
                }
                Err(ExecError::StalePlan) if tries < 5 => self.forget_plan(stmt_name),
                Err(e) => {
                    self.fail_extended(e);
                    return Ok(());
                }
            }
        }
        let portal = self.portals.get_mut(name).expect("checked above");
        let formats = portal.formats.clone();
        let (res, at) = portal.result.as_mut().expect("set above");
        let fields = res.fields.clone().unwrap_or_default();
        let Some(rows) = portal.rows.as_mut() else {
            // Run to completion before: only the tag is left.
            let done = ExecResult {
                tag: res.tag.clone(),
                ..Default::default()
            };
            return self.send_result(done, &formats, false);
        };
        let total = rows.len();
        let end = if max > 0 {
            total.min(*at + max as usize)
        } else {
            total
        };
        for i in *at..end {
            match rows.get(i) {
                Ok(Some(row)) => self.out.data_row(&row, &fields, &formats),
                Ok(None) => break,
                Err(e) => {
                    self.fail_extended(e);
                    return Ok(());
                }
            }
            if self.out.buf.len() > 1 << 16 {
                send(self.io.get_mut(), &mut self.out)?;
            }
        }
        *at = end;
        if end < total {
            self.out.msg(b's', &[]);
            return Ok(());
        }
        // All sent: the tag; later Executes answer with the tag alone.
        let done = ExecResult {
            tag: res.tag.clone(),
            notices: std::mem::take(&mut res.notices),
            parameter_status: res.parameter_status.take(),
            ..Default::default()
        };
        portal.rows = None;
        portal.result = Some((
            ExecResult {
                tag: done.tag.clone(),
                fields: res.fields.clone(),
                ..Default::default()
            },
            0,
        ));
        self.send_result(done, &formats, false)
    }
}

/// CopyInResponse / CopyOutResponse body: the overall format and each
/// column's.
fn copy_response(ncols: usize, binary: bool) -> Vec<u8> {
    let f = binary as i16;
    let mut b = vec![f as u8];
    b.extend_from_slice(&(ncols as i16).to_be_bytes());
    for _ in 0..ncols {
        b.extend_from_slice(&f.to_be_bytes());
    }
    b
}

fn format_for(formats: &[i16], i: usize) -> i16 {
    match formats.len() {
        0 => 0,
        1 => formats[0],
        _ => formats.get(i).copied().unwrap_or(0),
    }
}

fn is_txn_control(s: &basalt_parser::Statement) -> bool {
    use basalt_parser::sqlparser::ast::Statement as A;
    matches!(s, basalt_parser::Statement::Sql(x) if matches!(**x, A::StartTransaction { .. } | A::Commit { .. } | A::Rollback { .. }))
}

fn result_fields(s: &Statement) -> Option<Vec<Field>> {
    match s {
        Statement::Query(q) => Some(q.fields.clone()),
        Statement::WithDml { main, .. } => result_fields(main),
        Statement::Insert {
            returning: Some(q), ..
        }
        | Statement::Delete {
            returning: Some(q), ..
        }
        | Statement::Update {
            returning: Some(q), ..
        } => Some(q.fields.clone()),
        Statement::Show { name } => Some(vec![Field {
            name: name.to_lowercase(),
            ty: DataType::Text,
            source: None,
        }]),
        _ => None,
    }
}
