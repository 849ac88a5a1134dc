//! A small blocking PostgreSQL wire-protocol client (protocol 3, simple
//! query, text results) so the slt files run over a real socket against a
//! started `basalt` or a real PostgreSQL, and so protocol tests can look at
//! the exact messages a server sends. Trust and cleartext password only.

use std::io::{self, BufReader, Read, Write};
use std::net::TcpStream;

/// One backend message: its type byte and body.
#[derive(Debug, Clone)]
pub struct Message {
    pub tag: u8,
    pub body: Vec<u8>,
}

/// An ErrorResponse's SQLSTATE and message.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerError {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// One statement's outcome in a simple query.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Rows(Vec<Vec<Option<String>>>),
    Command(String),
    Error(ServerError),
}

pub struct Client {
    rd: BufReader<TcpStream>,
    wr: TcpStream,
    pid: i32,
    secret: i32,
}

fn bad(m: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, m.to_string())
}

/// Parses the fields of an ErrorResponse / NoticeResponse body.
pub fn error_fields(body: &[u8]) -> ServerError {
    let mut e = ServerError {
        code: String::new(),
        message: String::new(),
    };
    let mut i = 0;
    while i < body.len() && body[i] != 0 {
        let t = body[i];
        let end = body[i + 1..]
            .iter()
            .position(|&b| b == 0)
            .map(|p| p + i + 1)
            .unwrap_or(body.len());
        let v = String::from_utf8_lossy(&body[i + 1..end]).to_string();
        match t {
            b'C' => e.code = v,
            b'M' => e.message = v,
            _ => {}
        }
        i = end + 1;
    }
    e
}

impl Client {
    /// Connects and authenticates (trust or cleartext password).
    pub fn connect(
        host: &str,
        port: u16,
        user: &str,
        database: &str,
        password: Option<&str>,
    ) -> io::Result<Client> {
        let s = TcpStream::connect((host, port))?;
        s.set_nodelay(true)?;
        let mut c = Client {
            rd: BufReader::new(s.try_clone()?),
            wr: s,
            pid: 0,
            secret: 0,
        };
        let mut b = 196608i32.to_be_bytes().to_vec();
        for (k, v) in [("user", user), ("database", database)] {
            b.extend_from_slice(k.as_bytes());
            b.push(0);
            b.extend_from_slice(v.as_bytes());
            b.push(0);
        }
        b.push(0);
        let mut m = ((b.len() + 4) as i32).to_be_bytes().to_vec();
        m.extend_from_slice(&b);
        c.wr.write_all(&m)?;
        loop {
            let msg = c.read()?;
            match msg.tag {
                b'R' => match msg.body.get(..4) {
                    Some([0, 0, 0, 0]) => {}
                    Some([0, 0, 0, 3]) => {
                        let pw = password.ok_or_else(|| bad("server asks for a password"))?;
                        let mut b = pw.as_bytes().to_vec();
                        b.push(0);
                        c.send(b'p', &b)?;
                    }
                    _ => return Err(bad("unsupported authentication method")),
                },
                b'E' => return Err(io::Error::other(error_fields(&msg.body).to_string())),
                b'K' if msg.body.len() >= 4 => {
                    c.pid =
                        i32::from_be_bytes([msg.body[0], msg.body[1], msg.body[2], msg.body[3]]);
                    if let Some(k) = msg.body.get(4..8) {
                        c.secret = i32::from_be_bytes([k[0], k[1], k[2], k[3]]);
                    }
                }
                b'Z' => return Ok(c),
                _ => {}
            }
        }
    }

    /// Sends one frontend message.
    pub fn send(&mut self, tag: u8, body: &[u8]) -> io::Result<()> {
        let mut m = Vec::with_capacity(body.len() + 5);
        m.push(tag);
        m.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        m.extend_from_slice(body);
        self.wr.write_all(&m)
    }

    /// Sends raw bytes (for malformed-message tests).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.wr.write_all(bytes)
    }

    /// Reads one backend message.
    pub fn read(&mut self) -> io::Result<Message> {
        let mut h = [0u8; 5];
        self.rd.read_exact(&mut h)?;
        let len = i32::from_be_bytes([h[1], h[2], h[3], h[4]]);
        if len < 4 {
            return Err(bad("invalid message length"));
        }
        let mut body = vec![0u8; len as usize - 4];
        self.rd.read_exact(&mut body)?;
        Ok(Message { tag: h[0], body })
    }

    /// Reads messages up to and including ReadyForQuery.
    pub fn read_until_ready(&mut self) -> io::Result<Vec<Message>> {
        let mut out = Vec::new();
        loop {
            let m = self.read()?;
            let done = m.tag == b'Z';
            out.push(m);
            if done {
                return Ok(out);
            }
        }
    }

    /// Sends a simple Query without waiting for its answer.
    pub fn send_query(&mut self, sql: &str) -> io::Result<()> {
        let mut b = sql.as_bytes().to_vec();
        b.push(0);
        self.send(b'Q', &b)
    }

    /// Whether the server has sent something not yet read (without blocking).
    pub fn ready_to_read(&mut self) -> io::Result<bool> {
        if !self.rd.buffer().is_empty() {
            return Ok(true);
        }
        self.wr.set_nonblocking(true)?;
        let mut b = [0u8; 1];
        let r = self.wr.peek(&mut b);
        self.wr.set_nonblocking(false)?;
        match r {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Asks the server, over a new connection, to cancel this connection's
    /// running statement (CancelRequest).
    pub fn cancel(&self) -> io::Result<()> {
        let addr = self.wr.peer_addr()?;
        let mut s = TcpStream::connect(addr)?;
        let mut m = 16i32.to_be_bytes().to_vec();
        m.extend_from_slice(&80877102i32.to_be_bytes());
        m.extend_from_slice(&self.pid.to_be_bytes());
        m.extend_from_slice(&self.secret.to_be_bytes());
        s.write_all(&m)?;
        let mut b = [0u8; 1];
        let _ = s.read(&mut b);
        Ok(())
    }

    /// The server's process id for this connection (BackendKeyData).
    pub fn backend_pid(&self) -> i32 {
        self.pid
    }

    /// Sends a simple Query and returns every message up to ReadyForQuery.
    pub fn query_messages(&mut self, sql: &str) -> io::Result<Vec<Message>> {
        let mut b = sql.as_bytes().to_vec();
        b.push(0);
        self.send(b'Q', &b)?;
        self.read_until_ready()
    }

    /// Runs a simple query; one outcome per statement that ran.
    pub fn simple_query(&mut self, sql: &str) -> io::Result<Vec<Outcome>> {
        let mut out = Vec::new();
        let mut rows: Option<Vec<Vec<Option<String>>>> = None;
        for m in self.query_messages(sql)? {
            match m.tag {
                b'T' => rows = Some(Vec::new()),
                b'D' => {
                    let r = rows
                        .as_mut()
                        .ok_or_else(|| bad("DataRow without RowDescription"))?;
                    r.push(data_row(&m.body)?);
                }
                b'C' => {
                    let tag = String::from_utf8_lossy(m.body.strip_suffix(&[0]).unwrap_or(&m.body))
                        .to_string();
                    out.push(match rows.take() {
                        Some(r) => Outcome::Rows(r),
                        None => Outcome::Command(tag),
                    });
                }
                b'E' => {
                    rows = None;
                    out.push(Outcome::Error(error_fields(&m.body)));
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// The text values of a DataRow (None for NULL).
pub fn data_row(body: &[u8]) -> io::Result<Vec<Option<String>>> {
    let n = i16::from_be_bytes([body[0], body[1]]);
    let mut pos = 2;
    let mut row = Vec::with_capacity(n.max(0) as usize);
    for _ in 0..n {
        let l = body.get(pos..pos + 4).ok_or_else(|| bad("short DataRow"))?;
        let len = i32::from_be_bytes([l[0], l[1], l[2], l[3]]);
        pos += 4;
        if len < 0 {
            row.push(None);
            continue;
        }
        let v = body
            .get(pos..pos + len as usize)
            .ok_or_else(|| bad("short DataRow"))?;
        row.push(Some(String::from_utf8_lossy(v).to_string()));
        pos += len as usize;
    }
    Ok(row)
}
