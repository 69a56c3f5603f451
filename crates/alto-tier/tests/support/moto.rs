//! Test support: moto's S3-compatible server on a free loopback port, with the bucket `tier2`.
//!
//! `scripts/test.sh` installs moto from PyPI and exports `ALTO_MOTO_SERVER`; without it,
//! `moto_server` must be on `PATH`, or the test fails (it is never skipped).

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed on drop.
pub struct Server {
    pub child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(port: u16, request: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.write_all(request.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// Start moto on a free port and create the bucket `tier2`.
pub fn start_s3() -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = std::env::var("ALTO_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start the S3 test server `{bin}` ({e}): run scripts/test.sh, which installs \
                 it, or `pip install 'moto[server]'`"
            )
        });
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http(port, "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "S3 test server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let created = http(
        port,
        "PUT /tier2 HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    assert!(
        created.starts_with("HTTP/1.0 200") || created.starts_with("HTTP/1.1 200"),
        "{created}"
    );
    server
}

impl Server {
    /// Target options for this server (credentials, endpoint, plain HTTP).
    pub fn options(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}
